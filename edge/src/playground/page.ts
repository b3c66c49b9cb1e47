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
    <fieldset id="inpaint-fields" hidden>
      <legend>Product photo (inpaint: keep it, generate around it)</legend>
      <label for="inpaint-image">Product or scene photo (optional; JPEG, PNG or WebP)</label>
      <input id="inpaint-image" name="inpaintImage" type="file" accept="image/jpeg,image/png,image/webp">
      <div id="mask-editor" hidden>
        <p id="mask-help">Paint where new pixels are generated; what you leave unpainted is kept exactly. Keyboard: upload a mask instead, or take it from the photo's transparency.</p>
        <div class="mask-tools" role="group" aria-label="Mask painting tools">
          <label class="inline"><input type="radio" name="maskTool" id="tool-brush" value="brush" checked> Brush</label>
          <label class="inline"><input type="radio" name="maskTool" id="tool-eraser" value="eraser"> Eraser</label>
          <label class="inline" for="brush-size">Brush size <output id="brush-size-value" for="brush-size">8</output> px</label>
          <input id="brush-size" name="brushSize" type="range" min="1" max="128" step="1" value="8">
          <button id="mask-clear" type="button" class="secondary">Clear mask</button>
        </div>
        <canvas id="mask-canvas" width="0" height="0" aria-describedby="mask-help" aria-label="The product photo; painted areas (red) are generated"></canvas>
        <p id="mask-status" role="status"></p>
        <label for="inpaint-mask">Or upload a mask (white = generate; the photo's size)</label>
        <input id="inpaint-mask" name="inpaintMask" type="file" accept="image/png,image/webp,image/jpeg">
        <label class="inline"><input id="mask-from-alpha" name="maskFromAlpha" type="checkbox"> Take the mask from the photo's transparency (generate where it is transparent)</label>
      </div>
      <label for="inpaint-grow">Grow the mask by (px)</label>
      <input id="inpaint-grow" name="inpaintGrow" type="number" min="0" max="64" step="1" value="0" inputmode="numeric">
      <label for="inpaint-feather">Feather the seam by (px)</label>
      <input id="inpaint-feather" name="inpaintFeather" type="number" min="0" max="64" step="1" value="8" inputmode="numeric">
      <label for="inpaint-strength">Inpaint strength <output id="inpaint-strength-value" for="inpaint-strength">0.5</output></label>
      <input id="inpaint-strength" name="inpaintStrength" type="range" min="0" max="2" step="0.05" value="0.5">
      <label class="inline"><input id="inpaint-keep" name="inpaintKeep" type="checkbox" checked> Keep the unpainted pixels exactly</label>
    </fieldset>
    <fieldset id="softedge-fields" hidden>
      <legend>Composition (softedge: follow an edge map)</legend>
      <div role="radiogroup" aria-label="What the composition comes from">
        <label class="inline"><input type="radio" name="softedgeSource" id="softedge-from-map" value="edge_map" checked> An edge map (white edges on black, used as is)</label>
        <label class="inline"><input type="radio" name="softedgeSource" id="softedge-from-photo" value="image"> A photo (its edges are detected on the GPU)</label>
      </div>
      <p id="softedge-detectors-note" hidden></p>
      <label for="softedge-file">Edge map or photo (optional; JPEG, PNG or WebP)</label>
      <input id="softedge-file" name="softedgeFile" type="file" accept="image/jpeg,image/png,image/webp">
      <label for="softedge-detector" id="softedge-detector-label" hidden>Edge detector</label>
      <select id="softedge-detector" name="softedgeDetector" hidden></select>
      <canvas id="edge-preview" width="0" height="0" aria-label="The edge map as it will be used (gray)" hidden></canvas>
      <p id="softedge-note" role="status"></p>
      <label for="softedge-strength">Softedge strength <output id="softedge-strength-value" for="softedge-strength">0.6</output></label>
      <input id="softedge-strength" name="softedgeStrength" type="range" min="0" max="2" step="0.05" value="0.6">
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
      <label for="format">Output format</label>
      <select id="format" name="format">
        <option value="webp" selected>WebP (small; lossy)</option>
        <option value="png">PNG (lossless: a kept product's pixels come back exactly)</option>
        <option value="jpeg">JPEG (lossy)</option>
      </select>
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
