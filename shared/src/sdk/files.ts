/** What createJob and uploadFile accept as an image. */
export type FileInput = Blob | Uint8Array;

/** The image type from its magic bytes (the API accepts JPEG, PNG and WebP only). */
export function sniffImageType(bytes: Uint8Array): "image/png" | "image/jpeg" | "image/webp" | null {
  const at = (i: number) => bytes[i] ?? -1;
  if (at(0) === 0x89 && at(1) === 0x50 && at(2) === 0x4e && at(3) === 0x47) return "image/png";
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return "image/jpeg";
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  return null;
}

export function toBlob(file: FileInput): Blob {
  if (file instanceof Blob) return file;
  return new Blob([file as BlobPart], { type: sniffImageType(file) ?? "application/octet-stream" });
}

/** multipart/form-data for POST /v1/jobs: the job JSON in a part named "request", each file beside it. */
export function buildJobForm(request: unknown, files: Record<string, FileInput>): FormData {
  const form = new FormData();
  form.append("request", JSON.stringify(request));
  for (const [name, file] of Object.entries(files)) {
    if (name === "request") throw new TypeError('a file part cannot be named "request"');
    form.append(name, toBlob(file), name);
  }
  return form;
}
