export const USAGE = `ecomid: identity-preserving portraits from the EcomID API

usage:
  ecomid generate --image face.jpg --prompt "..." [options]
  ecomid jobs list [--status S] [--limit N] [--all] [--updated-after ISO]
  ecomid jobs get|cancel|delete <job_id>
  ecomid jobs wait <job_id> [--out DIR] [--timeout SECONDS]
  ecomid keys create --owner ID [--scopes jobs:read,jobs:write,admin,provenance:none] [--name N] [--local]
  ecomid keys list [--owner ID] [--local]
  ecomid keys revoke <key_id> [--local]

generate options (left out: the model's defaults, GET /v1/models):
  --image, -i PATH|upl_...|https://...   reference face (repeat for up to 4)
  --prompt, -p TEXT        --negative-prompt TEXT
  --pose-image PATH        take the face position from this image
  --keypoints x,y;x,y;x,y;x,y;x,y   eyes, nose, mouth corners in output pixels
  --keypoint-image PATH    a pre-drawn keypoint image
  --face-index N           which face of the reference (default: the largest)
  --identity-strength N    --structure-strength N    --id-mode fidelity|style|neutral    --id-noise N
  --steps N   --guidance N   --sampler euler|euler_ancestral|dpmpp_2m_karras|dpm_2_karras|dpm_solver_trailing
  --seed N    --width N   --height N   --outputs N   --format webp|png|jpeg   --quality N
  --intermediates keypoint_image,arcface_crop,ffhq_crop,edge_map,inpaint_mask
  --inpaint-image PATH     keep this product photo and generate around it (size: the photo's, rounded)
    --mask PATH            white where new pixels are generated, the photo's size
    --mask-from-alpha      generate where the photo is transparent (instead of --mask)
    --grow PX   --feather PX   --inpaint-strength N   --keep-unmasked | --no-keep-unmasked
  --softedge-image PATH    follow this photo's soft edges [--softedge-detector pidinet|hed]
  --edge-map PATH          follow this edge map as is    --softedge-strength N
  --provenance c2pa+iptc|iptc|none   labels on each output (default c2pa+iptc: signed Content
                           Credentials and IPTC XMP; none needs a key with the provenance:none scope)
  --include-prompt         also write the prompt into the XMP
  --model ID (or ECOMID_MODEL; on a local stack the tiny fixture model)
  --webhook URL [--webhook-events job.succeeded,...]   --metadata k=v (repeat)
  --deadline SECONDS       --retention SECONDS       --idempotency-key KEY
  --out, -o DIR            where outputs and <job>.json go (default ./ecomid-output)
  --no-wait                print the job id and return      --timeout SECONDS  stop waiting after this

global options:
  --base-url URL   or ECOMID_BASE_URL (default http://127.0.0.1:8787)
  --api-key KEY    or ECOMID_API_KEY (default: .state/dev-key.txt written by npm start)
  --json           machine-readable output on stdout
  --help, -h

exit status: 0 ok, 1 unreachable or unexpected, 2 usage, 3 API refusal, 4 job failed/canceled/aborted, 5 timeout, 130 interrupted
`;
