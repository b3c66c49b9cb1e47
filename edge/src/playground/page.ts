import { PLAYGROUND_SCRIPT } from "./script.js";
import { PLAYGROUND_STYLE } from "./style.js";

/**
 * The web playground served at `/`: one self-contained page (no CDN, works offline)
 * that talks to this API with a key the user pastes; it never embeds a key itself.
 */
export function playgroundPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>EcomID playground</title>
<style nonce="${nonce}">${PLAYGROUND_STYLE}</style>
</head>
<body>
<main>
  <h1>EcomID playground</h1>
  <p class="lead">One face photo and a prompt in; new portraits of the same person out. <a href="/docs">API reference</a></p>
  <form id="job-form" novalidate>
    <fieldset>
      <legend>Access</legend>
      <label for="api-key">API key</label>
      <input id="api-key" name="apiKey" type="password" autocomplete="off" placeholder="ek_test_..." required>
      <label for="model">Model</label>
      <select id="model" name="model"></select>
    </fieldset>
    <fieldset>
      <legend>Reference and pose</legend>
      <label for="face">Face photo (JPEG, PNG or WebP)</label>
      <input id="face" name="face" type="file" accept="image/jpeg,image/png,image/webp" required>
      <div class="reference"><canvas id="reference-canvas" width="0" height="0" aria-label="Reference photo with the detected face"></canvas></div>
      <label for="pose">Pose image (optional: the face's position and angle come from it)</label>
      <input id="pose" name="pose" type="file" accept="image/jpeg,image/png,image/webp">
    </fieldset>
    <fieldset>
      <legend>Prompt</legend>
      <label for="prompt">Prompt</label>
      <textarea id="prompt" name="prompt" rows="2" required>a studio portrait, soft light</textarea>
      <label for="negative">Negative prompt</label>
      <input id="negative" name="negative" type="text" value="">
    </fieldset>
    <fieldset class="sliders">
      <legend>Settings</legend>
      <label for="identity">Identity strength <output id="identity-value" for="identity">0.3</output></label>
      <input id="identity" name="identity" type="range" min="0" max="2" step="0.05" value="0.3">
      <label for="structure">Structure strength <output id="structure-value" for="structure">0.8</output></label>
      <input id="structure" name="structure" type="range" min="0" max="2" step="0.05" value="0.8">
      <label for="steps">Steps <output id="steps-value" for="steps">4</output></label>
      <input id="steps" name="steps" type="range" min="1" max="50" step="1" value="4">
      <label for="guidance">Guidance <output id="guidance-value" for="guidance">3.5</output></label>
      <input id="guidance" name="guidance" type="range" min="1" max="15" step="0.5" value="3.5">
      <label for="seed">Seed (empty: random)</label>
      <input id="seed" name="seed" type="number" min="0" max="4294967295" step="1" inputmode="numeric">
    </fieldset>
    <button id="submit" type="submit">Generate</button>
  </form>
  <section aria-live="polite">
    <p id="status" role="status"></p>
    <progress id="progress" max="1" value="0" hidden></progress>
    <img id="preview" alt="Live preview of the image being generated" hidden>
    <p id="error" role="alert" class="error" hidden></p>
  </section>
  <section id="results" aria-label="Results"></section>
</main>
<script nonce="${nonce}">${PLAYGROUND_SCRIPT}</script>
</body>
</html>`;
}
