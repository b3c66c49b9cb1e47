export const PLAYGROUND_STYLE = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#1d1d1b}
main{max-width:880px;margin:0 auto;padding:1.5rem}
h1{margin:.2rem 0}.lead{color:#555}
fieldset{border:1px solid #ccc;border-radius:8px;margin:0 0 1rem;padding:.8rem 1rem;background:#fff}
legend{font-weight:600}
label{display:block;margin-top:.6rem}
input[type=text],input[type=password],input[type=number],textarea,select{width:100%;box-sizing:border-box;padding:.4rem;font:inherit}
input[type=range]{width:100%}
button{font:inherit;padding:.6rem 1.4rem;border-radius:6px;border:0;background:#1d4ed8;color:#fff;cursor:pointer}
button[disabled]{background:#888}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.reference canvas{max-width:100%;margin-top:.5rem}
#preview{width:192px;height:192px;image-rendering:pixelated;border-radius:6px}
.error{color:#b91c1c;font-weight:600}
#results{display:flex;flex-wrap:wrap;gap:1rem;margin-top:1rem}
figure{margin:0;background:#fff;border:1px solid #ccc;border-radius:8px;padding:.5rem}
figure img{display:block;width:256px;height:256px;object-fit:contain;image-rendering:pixelated}
[hidden]{display:none!important}
figcaption{max-width:256px}
.badge{flex-basis:100%;margin:0;padding:.4rem .7rem;border:1px solid #15803d;border-radius:6px;background:#f0fdf4;color:#14532d}
label.inline{display:inline-block;margin-right:1rem}
button.secondary{background:#e5e7eb;color:#1d1d1b;padding:.3rem .9rem;margin-top:.4rem}
#mask-canvas,#edge-preview{display:block;width:320px;max-width:100%;margin-top:.5rem;image-rendering:pixelated;touch-action:none;cursor:crosshair;border:1px solid #ccc}
#edge-preview{cursor:default}
.frame{position:relative;width:256px;height:256px}
.frame svg{position:absolute;inset:0;width:100%;height:100%;pointer-events:none}
.frame path{fill:none;stroke:#22c55e;stroke-width:2}
`;
