/**
 * The playground's inpaint and softedge controls, as a fragment of the page's script
 * (it runs inside the same closure and uses its `$`). Shown only for a model whose
 * capabilities include the ControlNet. The mask is painted on a layer at the photo's own
 * size and sent as a black-and-white PNG of that size; an edge map is previewed as the API
 * will use it (gray), and an edge map the GPU detects is never imitated here: it is shown
 * from the job's edge_map intermediate.
 */
export const CONTROLS_SCRIPT = String.raw`
  // Luma as PIL's convert("L") computes it, the API's rule for masks and edge maps (white: L >= 128).
  const luma = (r, g, b) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
  const PAINT = [220, 38, 38, 255];
  // Pixels exactly as the file has them: no colour management, no premultiplied alpha.
  const bitmapOf = (blob) => createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  function pixelsOf(bitmap) {
    const c = document.createElement("canvas");
    c.width = bitmap.width; c.height = bitmap.height;
    const g = c.getContext("2d", { willReadFrequently: true });
    g.drawImage(bitmap, 0, 0);
    return g.getImageData(0, 0, c.width, c.height);
  }
  const lumaOf = (img) => Uint8Array.from({ length: img.width * img.height }, (_, i) => luma(img.data[4 * i], img.data[4 * i + 1], img.data[4 * i + 2]));

  let models = {};
  function showCapabilities() {
    const caps = (models[$("model").value] || {}).capabilities || { controlnets: [], edge_detectors: [] };
    $("inpaint-fields").hidden = !caps.controlnets.includes("inpaint");
    $("softedge-fields").hidden = !caps.controlnets.includes("softedge");
    $("softedge-detector").replaceChildren(...caps.edge_detectors.map((d) => Object.assign(document.createElement("option"), { value: d, textContent: d })));
    const fromPhoto = $("softedge-from-photo"), note = $("softedge-detectors-note");
    fromPhoto.disabled = caps.edge_detectors.length === 0;
    note.hidden = !fromPhoto.disabled;
    note.textContent = "This model has no edge detector: give an edge map rather than a photo.";
    if (fromPhoto.disabled && fromPhoto.checked) $("softedge-from-map").checked = true;
    showSoftedge();
  }
  $("model").addEventListener("change", showCapabilities);

  // ---- Inpaint: the product photo and its mask.
  let product = null, productFile = null;
  const maskLayer = document.createElement("canvas"); // at the photo's size; opaque where painted (generate)
  const maskView = $("mask-canvas"), maskStatus = $("mask-status");
  const layer = () => maskLayer.getContext("2d", { willReadFrequently: true });
  for (const id of ["brush-size", "inpaint-strength", "softedge-strength"]) {
    const input = $(id), out = $(id + "-value");
    input.addEventListener("input", () => (out.textContent = input.value));
  }

  $("inpaint-image").addEventListener("change", async () => {
    productFile = $("inpaint-image").files[0] || null;
    product = productFile ? await createImageBitmap(productFile, { premultiplyAlpha: "none" }) : null;
    $("mask-editor").hidden = !product;
    if (!product) return;
    maskLayer.width = maskView.width = product.width; maskLayer.height = maskView.height = product.height;
    $("inpaint-mask").value = "";
    setMaskFromAlpha($("mask-from-alpha").checked);
  });

  function drawMask() {
    const g = maskView.getContext("2d");
    g.clearRect(0, 0, maskView.width, maskView.height);
    g.drawImage(product, 0, 0);
    g.globalAlpha = 0.55; g.drawImage(maskLayer, 0, 0); g.globalAlpha = 1;
  }
  // 1 where generated: the layer's coverage, binarised at half (the brush's antialiased rim is decided here, once).
  function maskBits() {
    const d = layer().getImageData(0, 0, maskLayer.width, maskLayer.height).data;
    return Uint8Array.from({ length: maskLayer.width * maskLayer.height }, (_, i) => (d[4 * i + 3] >= 128 ? 1 : 0));
  }
  function showMaskStatus() {
    drawMask();
    const bits = maskBits(), painted = bits.reduce((a, b) => a + b, 0);
    const share = ((100 * painted) / bits.length).toFixed(1);
    maskStatus.textContent = painted === 0
      ? ($("mask-from-alpha").checked ? "The photo is opaque everywhere: nothing would be generated." : "Nothing painted yet: paint where new pixels go.")
      : painted + " of " + bits.length + " pixels (" + share + "%) will be generated; the rest is kept.";
  }
  function fillLayer(generate) {
    const img = layer().createImageData(maskLayer.width, maskLayer.height);
    for (let i = 0; i < generate.length; i++) if (generate[i]) img.data.set(PAINT, 4 * i);
    layer().putImageData(img, 0, 0);
  }

  let last = null;
  const photoPoint = (e) => {
    const r = maskView.getBoundingClientRect();
    return [((e.clientX - r.left) * maskView.width) / r.width, ((e.clientY - r.top) * maskView.height) / r.height];
  };
  function paintTo(p) {
    const g = layer();
    g.globalCompositeOperation = $("tool-eraser").checked ? "destination-out" : "source-over";
    g.strokeStyle = g.fillStyle = "rgb(" + PAINT.slice(0, 3).join(",") + ")";
    g.lineWidth = Number($("brush-size").value); g.lineCap = g.lineJoin = "round";
    g.beginPath();
    if (last) { g.moveTo(last[0], last[1]); g.lineTo(p[0], p[1]); g.stroke(); }
    else { g.arc(p[0], p[1], g.lineWidth / 2, 0, 2 * Math.PI); g.fill(); } // a dab where the stroke starts
    g.globalCompositeOperation = "source-over";
    last = p; drawMask();
  }
  maskView.addEventListener("pointerdown", (e) => {
    if (!product || $("mask-from-alpha").checked) return;
    maskView.setPointerCapture(e.pointerId);
    last = null; paintTo(photoPoint(e));
  });
  maskView.addEventListener("pointermove", (e) => { if (last) paintTo(photoPoint(e)); });
  const endStroke = () => { if (last) { last = null; showMaskStatus(); } };
  maskView.addEventListener("pointerup", endStroke);
  maskView.addEventListener("pointercancel", endStroke);
  $("mask-clear").addEventListener("click", () => { layer().clearRect(0, 0, maskLayer.width, maskLayer.height); showMaskStatus(); });

  // The keyboard's way: a mask file, binarised by the API's rule and shown on the photo (it can be painted on after).
  $("inpaint-mask").addEventListener("change", async () => {
    const file = $("inpaint-mask").files[0];
    if (!file || !product) return;
    const img = pixelsOf(await bitmapOf(file));
    if (img.width !== product.width || img.height !== product.height) {
      $("inpaint-mask").value = "";
      maskStatus.textContent = "The mask is " + img.width + "x" + img.height + " but the photo is " + product.width + "x" + product.height + ": they must be the same size.";
      return;
    }
    $("mask-from-alpha").checked = false; setMaskFromAlpha(false);
    fillLayer(lumaOf(img).map((l) => (l >= 128 ? 1 : 0)));
    showMaskStatus();
  });

  $("mask-from-alpha").addEventListener("change", () => setMaskFromAlpha($("mask-from-alpha").checked));
  // From the photo's transparency: shown as the API reads it (generate where alpha < 128); painting is off meanwhile.
  function setMaskFromAlpha(on) {
    for (const id of ["tool-brush", "tool-eraser", "brush-size", "mask-clear"]) $(id).disabled = on;
    if (on) {
      const img = pixelsOf(product);
      fillLayer(Uint8Array.from({ length: img.width * img.height }, (_, i) => (img.data[4 * i + 3] < 128 ? 1 : 0)));
    } else layer().clearRect(0, 0, maskLayer.width, maskLayer.height);
    showMaskStatus();
  }

  function maskPng() {
    const bits = maskBits(), c = document.createElement("canvas");
    c.width = maskLayer.width; c.height = maskLayer.height;
    const g = c.getContext("2d"), img = g.createImageData(c.width, c.height);
    bits.forEach((b, i) => img.data.set(b ? [255, 255, 255, 255] : [0, 0, 0, 255], 4 * i));
    g.putImageData(img, 0, 0);
    return new Promise((done) => c.toBlob(done, "image/png"));
  }

  // ---- Softedge: an edge map (previewed as used) or a photo whose edges the GPU detects.
  let softedgeFile = null;
  async function showSoftedge() {
    const fromPhoto = $("softedge-from-photo").checked, preview = $("edge-preview"), note = $("softedge-note");
    $("softedge-detector").hidden = $("softedge-detector-label").hidden = !fromPhoto;
    preview.hidden = true; note.textContent = "";
    if (!softedgeFile) return;
    if (fromPhoto) {
      note.textContent = "The edge map is computed from this photo on the GPU by the " + $("softedge-detector").value + " detector; it is shown beside the result after the job.";
      return;
    }
    const img = pixelsOf(await bitmapOf(softedgeFile));
    const gray = lumaOf(img);
    gray.forEach((l, i) => img.data.set([l, l, l, 255], 4 * i));
    preview.width = img.width; preview.height = img.height;
    preview.getContext("2d").putImageData(img, 0, 0);
    preview.hidden = false;
    note.textContent = "The edge map as it will be used: gray, resized to the output size.";
  }
  for (const id of ["softedge-from-map", "softedge-from-photo", "softedge-detector"]) $(id).addEventListener("change", showSoftedge);
  $("softedge-file").addEventListener("change", () => { softedgeFile = $("softedge-file").files[0] || null; showSoftedge(); });

  /** The job's inpaint and softedge inputs and their files; a sentence instead when the form cannot be sent. */
  async function controlInputs(input) {
    const files = [];
    if (!$("inpaint-fields").hidden && productFile) {
      const fromAlpha = $("mask-from-alpha").checked;
      if (!fromAlpha && !maskBits().includes(1)) return { error: "Paint where new pixels go (or upload a mask) first: an empty mask would keep the whole photo." };
      input.inpaint = {
        image: { file: "product" },
        grow: Number($("inpaint-grow").value),
        feather: Number($("inpaint-feather").value),
        strength: Number($("inpaint-strength").value),
        keep_unmasked: $("inpaint-keep").checked,
      };
      if (fromAlpha) input.inpaint.mask_from = "alpha";
      else { input.inpaint.mask = { file: "mask" }; files.push(["mask", await maskPng(), "mask.png"]); }
      files.push(["product", productFile, productFile.name]);
      input.return_intermediates.push("inpaint_mask");
    }
    if (!$("softedge-fields").hidden && softedgeFile) {
      input.softedge = $("softedge-from-photo").checked
        ? { image: { file: "edges" }, detector: $("softedge-detector").value }
        : { edge_map: { file: "edges" } };
      input.softedge.strength = Number($("softedge-strength").value);
      files.push(["edges", softedgeFile, softedgeFile.name]);
      input.return_intermediates.push("edge_map");
    }
    return { files, photoUrl: input.inpaint ? URL.createObjectURL(productFile) : null };
  }

  // ---- The result: the product photo beside it, the kept region's edge drawn over each output.
  const SVG = "http://www.w3.org/2000/svg";
  async function outlineKept(job, frames) {
    const shown = job.intermediates.find((i) => i.kind === "inpaint_mask");
    if (!shown) return;
    const img = pixelsOf(await bitmapOf(await (await fetch(shown.url)).blob()));
    const { width: w, height: h } = img, gray = lumaOf(img);
    const kept = (x, y) => x >= 0 && y >= 0 && x < w && y < h && gray[y * w + x] < 128;
    // One unit segment per pixel side between a kept pixel and a generated one.
    let d = "";
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        if (!kept(x, y)) continue;
        if (y > 0 && !kept(x, y - 1)) d += "M" + x + " " + y + "h1";
        if (y < h - 1 && !kept(x, y + 1)) d += "M" + x + " " + (y + 1) + "h1";
        if (x > 0 && !kept(x - 1, y)) d += "M" + x + " " + y + "v1";
        if (x < w - 1 && !kept(x + 1, y)) d += "M" + (x + 1) + " " + y + "v1";
      }
    for (const frame of frames) {
      const svg = document.createElementNS(SVG, "svg"), path = document.createElementNS(SVG, "path");
      svg.setAttribute("viewBox", "0 0 " + w + " " + h);
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", "Outline of the kept (unpainted) region");
      svg.setAttribute("class", "kept-outline");
      path.setAttribute("d", d);
      path.setAttribute("vector-effect", "non-scaling-stroke");
      svg.append(path);
      frame.append(svg);
    }
  }
`;
