import { ERROR_ADVICE } from "@ecomid/shared/api";
import { CONTROLS_SCRIPT } from "./controls-script.js";

// JSON is a JavaScript literal; "<" escaped so no advice text can close the inline <script>.
const adviceLiteral = JSON.stringify(ERROR_ADVICE).replace(/</g, "\\u003c");

/**
 * The playground's browser code, as a string so the worker serves it inline.
 * Plain DOM and fetch; Server-Sent Events are read from a fetch stream because
 * EventSource cannot send the Authorization header.
 */
export const PLAYGROUND_SCRIPT = String.raw`
(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("job-form"), statusLine = $("status"), errorLine = $("error"), progress = $("progress"), preview = $("preview"), results = $("results");
  const ADVICE = ${adviceLiteral};
  const keyInput = $("api-key");
  keyInput.value = sessionStorage.getItem("ecomid-key") || "";
  for (const id of ["identity", "structure", "steps", "guidance"]) {
    const input = $(id), out = $(id + "-value");
    input.addEventListener("input", () => (out.textContent = input.value));
  }
  const auth = () => ({ authorization: "Bearer " + keyInput.value.trim() });
  const showError = (message) => { errorLine.textContent = message; errorLine.hidden = false; };
  // A refusal (problem+json) says what happened in detail, a failed job's error in message; a job's own hint comes first.
  const explain = (problem) => {
    const advice = problem.hint || ADVICE[problem.code];
    return (advice ? advice + " " : "") + "(" + (problem.detail || problem.message || problem.code) + ")";
  };
${CONTROLS_SCRIPT}

  fetch("/v1/models").then((r) => r.json()).then((list) => {
    for (const m of list.data) {
      const o = document.createElement("option");
      o.value = m.id; o.textContent = m.id + (m.fixture ? " (test fixture: generates noise)" : "");
      $("model").append(o);
      models[m.id] = m;
    }
    showCapabilities();
  });

  let referenceImage = null;
  $("face").addEventListener("change", async () => {
    const file = $("face").files[0];
    if (!file) return;
    referenceImage = await createImageBitmap(file);
    drawReference(null);
  });

  function drawReference(face) {
    const canvas = $("reference-canvas");
    if (!referenceImage) return;
    const scale = Math.min(1, 320 / referenceImage.width);
    canvas.width = Math.round(referenceImage.width * scale); canvas.height = Math.round(referenceImage.height * scale);
    const g = canvas.getContext("2d");
    g.drawImage(referenceImage, 0, 0, canvas.width, canvas.height);
    if (!face) return;
    g.strokeStyle = "#22c55e"; g.lineWidth = 2;
    const [x1, y1, x2, y2] = face.box.map((v) => v * scale);
    g.strokeRect(x1, y1, x2 - x1, y2 - y1);
    const colors = ["#ff0000", "#00ff00", "#0000ff", "#ffff00", "#ff00ff"];
    face.keypoints.forEach(([x, y], i) => { g.fillStyle = colors[i]; g.beginPath(); g.arc(x * scale, y * scale, 4, 0, 2 * Math.PI); g.fill(); });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorLine.hidden = true; results.replaceChildren(); preview.hidden = true;
    const face = $("face").files[0];
    if (!keyInput.value.trim()) return showError("Paste your API key first (npm start prints one).");
    if (!face) return showError("Choose a face photo first.");
    sessionStorage.setItem("ecomid-key", keyInput.value.trim());
    const input = {
      reference_images: [{ file: "face" }],
      prompt: $("prompt").value,
      negative_prompt: $("negative").value,
      identity_strength: Number($("identity").value),
      structure_strength: Number($("structure").value),
      steps: Number($("steps").value),
      guidance: Number($("guidance").value),
      output_format: $("format").value,
      return_intermediates: ["keypoint_image"],
    };
    if ($("seed").value !== "") input.seed = Number($("seed").value);
    const pose = $("pose").files[0];
    if (pose) input.keypoints = { type: "pose_image", image: { file: "pose" } };
    const controls = await controlInputs(input);
    if (controls.error) return showError(controls.error);
    if (shownPhotoUrl) URL.revokeObjectURL(shownPhotoUrl);
    shownPhotoUrl = controls.photoUrl;
    // The API reads the request part first and takes only the files it names.
    const body = new FormData();
    body.append("request", JSON.stringify({ model: $("model").value, input }));
    body.append("face", face);
    if (pose) body.append("pose", pose);
    for (const [name, blob, filename] of controls.files) body.append(name, blob, filename);
    $("submit").disabled = true;
    statusLine.textContent = "Submitting...";
    try {
      const res = await fetch("/v1/jobs", { method: "POST", headers: auth(), body });
      const job = await res.json();
      if (!res.ok) return showError(explain(job));
      statusLine.textContent = "Queued: " + job.id;
      await follow(job.id);
    } catch (e) {
      showError("The API could not be reached: " + e.message);
    } finally {
      $("submit").disabled = false;
    }
  });

  async function follow(id) {
    const res = await fetch("/v1/jobs/" + id + "/events", { headers: auth() });
    if (!res.ok) return showError(explain(await res.json()));
    const reader = res.body.getReader(), decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        const data = frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (data) onEvent(JSON.parse(data));
      }
    }
    const job = await (await fetch("/v1/jobs/" + id, { headers: auth() })).json();
    showJob(job);
  }

  function onEvent(event) {
    if (event.type === "job.started") statusLine.textContent = "Running...";
    if (event.type === "job.progress") {
      const p = event.data.progress;
      statusLine.textContent = p.stage === "denoising" ? "Generating: step " + p.step + " of " + p.total_steps : "Working: " + p.stage;
      if (p.total_steps) { progress.hidden = false; progress.max = p.total_steps; progress.value = p.step; }
      if (event.data.preview) { preview.src = event.data.preview; preview.hidden = false; }
    }
  }

  let shownPhotoUrl = null; // the inpaint photo of the job last sent, shown beside its result

  function showJob(job) {
    progress.hidden = true;
    if (job.faces && job.chosen_face !== null) drawReference(job.faces[job.chosen_face]);
    if (job.status !== "succeeded") {
      statusLine.textContent = "Job " + job.status + ".";
      if (job.error) showError(explain(job.error));
      return;
    }
    statusLine.textContent = "Done in " + (job.metrics.total_ms / 1000).toFixed(1) + " s" + (job.cached ? " (from the cache)" : "") + ".";
    preview.hidden = true;
    const inpainted = Boolean(job.input && job.input.inpaint && shownPhotoUrl), frames = [];
    if (inpainted) {
      const fig = document.createElement("figure"), img = document.createElement("img"), cap = document.createElement("figcaption");
      img.src = shownPhotoUrl; img.alt = "The product photo sent";
      cap.textContent = "input photo";
      fig.append(img, cap);
      results.append(fig);
    }
    for (const out of job.output) {
      const fig = document.createElement("figure");
      const img = document.createElement("img");
      img.src = out.url; img.alt = "Generated portrait " + (out.index + 1);
      const cap = document.createElement("figcaption");
      const similarity = out.identity_similarity === null ? "no face found in the output" : "identity similarity " + out.identity_similarity.toFixed(2);
      const link = document.createElement("a");
      link.href = out.url; link.download = job.id + "-" + out.index + "." + out.content_type.split("/")[1]; link.textContent = "Download";
      cap.append(similarity + " · seed " + out.seed + " · ", link);
      if (inpainted) cap.append(" · the green line outlines the kept region");
      const frame = document.createElement("div");
      frame.className = "frame"; frame.append(img); frames.push(frame);
      fig.append(frame, cap);
      results.append(fig);
    }
    for (const inter of job.intermediates) {
      const fig = document.createElement("figure");
      const img = document.createElement("img");
      img.src = inter.url; img.alt = "Intermediate: " + inter.kind.replace("_", " ");
      const cap = document.createElement("figcaption");
      cap.textContent = inter.kind.replace("_", " ");
      fig.append(img, cap);
      results.append(fig);
    }
    if (inpainted) outlineKept(job, frames).catch((e) => showError("The kept region could not be outlined: " + e.message));
    showProvenance(job.provenance);
  }

  // What the outputs carry, as the GPU function reported embedding it: the C2PA manifest's signer and action and
  // the IPTC digital source type (readers such as the C2PA reference reader show the same from the file).
  function showProvenance(p) {
    const badge = document.createElement("p");
    badge.id = "content-credentials";
    badge.className = "badge";
    if (!p || p.embedded === "none") {
      badge.textContent = "No Content Credentials: these outputs carry no provenance labels.";
    } else {
      const source = p.digital_source_type.endsWith("compositeWithTrainedAlgorithmicMedia")
        ? "AI-generated around real pixels kept from your photo"
        : "AI-generated";
      const signed = p.c2pa
        ? "C2PA manifest (" + p.c2pa.action + ") signed by " + p.c2pa.signer + (p.c2pa.development_certificate ? " with a development certificate, not a trusted one" : "")
        : "no C2PA manifest: IPTC/XMP labels only";
      badge.textContent = "Content Credentials: " + source + " · " + signed + (p.prompt_included ? " · prompt included" : "") + ".";
    }
    results.append(badge);
  }
})();
`;
