"""The CLIP BPE tokenizer as a Hugging Face tokenizer.json, built from open_clip's bundled vocabulary.

Same vocabulary and merges as every SDXL checkpoint's tokenizer/ folder
(49408 tokens), so the tiny bundle tokenizes exactly as a real one.
"""

import gzip
import json
from pathlib import Path

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
MERGES = 49152 - 256 - 2


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte -> printable character table."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars)))


def clip_vocab_and_merges(bpe_gz: Path) -> tuple[dict[str, int], list[str]]:
    lines = gzip.open(bpe_gz, "rt", encoding="utf-8").read().split("\n")
    merges = lines[1: MERGES + 1]
    symbols = list(_bytes_to_unicode().values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges] + [BOS, EOS]
    return {token: i for i, token in enumerate(vocab)}, merges


def default_vocab_path() -> Path:
    """Located without importing open_clip (its import needs torchvision, which is not installed)."""
    from importlib.util import find_spec  # noqa: PLC0415

    return Path(find_spec("open_clip").submodule_search_locations[0]) / "bpe_simple_vocab_16e6.txt.gz"


def build_tokenizer(vocab: dict[str, int], merges: list[str]):
    """The pipeline transformers' CLIP converter builds, assembled directly with `tokenizers`."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors  # noqa: PLC0415

    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m.split()) for m in merges], unk_token=EOS,
                                     continuing_subword_prefix="", end_of_word_suffix="</w>", fuse_unk=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""),
                             behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.RobertaProcessing((EOS, vocab[EOS]), (BOS, vocab[BOS]),
                                                            add_prefix_space=False, trim_offsets=False)
    tokenizer.add_special_tokens([BOS, EOS])
    return tokenizer


def write_tokenizer(out_dir: Path, bpe_gz: Path | None = None) -> tuple[Path, Path]:
    """Write tokenizer.json and tokenizer_config.json; returns their paths."""
    vocab, merges = clip_vocab_and_merges(bpe_gz or default_vocab_path())
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer_json = json.loads(build_tokenizer(vocab, merges).to_str())
    tokenizer_path = out_dir / "tokenizer.json"
    tokenizer_path.write_text(json.dumps(tokenizer_json, ensure_ascii=False, separators=(",", ":")) + "\n")
    config = {"add_prefix_space": False, "bos_token": BOS, "clean_up_tokenization_spaces": True, "do_lower_case": True,
              "eos_token": EOS, "errors": "replace", "model_max_length": 77, "pad_token": EOS,
              "tokenizer_class": "CLIPTokenizer", "unk_token": EOS}
    config_path = out_dir / "tokenizer_config.json"
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return tokenizer_path, config_path
