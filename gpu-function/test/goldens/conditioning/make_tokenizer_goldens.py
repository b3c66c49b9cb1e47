"""Token ids of tricky prompts from the Python `tokenizers` library (what the PyTorch reference uses).

Run from the repository root with the export environment:
    infra/export/.venv/bin/python gpu-function/test/goldens/conditioning/make_tokenizer_goldens.py
Writes tokenizer-cases.json beside this file: each prompt's ids with bos/eos, unpadded.
"""

import json
from pathlib import Path

from tokenizers import Tokenizer

PROMPTS = [
    "a portrait photo of a woman astronaut, studio light",
    "",
    "   ",
    "A Portrait   Photo\n\tof a MAN, 35mm, f/1.8 -- bokeh!!!",
    "café déjà vu, naïve façade, Ångström",
    "портрет женщины, 女性の肖像, 🧑‍🚀🚀✨",
    "don't won't it's we're they've I'm we'll he'd",
    "(masterpiece:1.2), [blurry], {best quality}, <lora:x:0.5>",
    "1234567890 3.14159 2024-11-26",
    "tom &amp; jerry <b>bold</b>",
    "text with <|endoftext|> inside",
    " ".join(["word"] * 75),
]

here = Path(__file__).parent
tokenizer = Tokenizer.from_file("bundles/tiny/tokenizer/tokenizer.json")
cases = [{"prompt": p, "ids": tokenizer.encode(p).ids} for p in PROMPTS]
(here / "tokenizer-cases.json").write_text(json.dumps({"source": "tokenizers (Python) on bundles/tiny/tokenizer/tokenizer.json", "cases": cases}, ensure_ascii=False, indent=1) + "\n")
print(f"{len(cases)} cases")
