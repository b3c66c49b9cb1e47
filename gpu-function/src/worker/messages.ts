import type { FaceDetection, JobError } from "@ecomid/shared/api";
import type { GpuJobSpec, GpuProvenanceReport } from "@ecomid/shared/protocol";
import type { ControlImageBytes } from "../pipelines/control-inputs.js";

/** Messages between the HTTP process and the inference child (IPC with structured clone). */
export type ToWorker =
  | {
      type: "run";
      jobId: string;
      /** For log lines only: the edge's x-request-id of the dispatch. */
      requestId: string;
      attempt: number;
      spec: GpuJobSpec;
      references: Uint8Array[];
      keypointImage: Uint8Array | null;
      controlImages: ControlImageBytes;
      intermediates: string[];
      deadlineMs: number | null;
    }
  | { type: "cancel"; jobId: string };

export interface EncodedImage {
  bytes: Uint8Array;
  contentType: string;
  width: number;
  height: number;
}

export interface PipelineOutput extends EncodedImage {
  index: number;
  seed: number;
  identitySimilarity: number | null;
}

export type FromWorker =
  | { type: "ready"; provider: "cuda" | "cpu"; bundleId: string; loadMs: number; warmupMs: number }
  | { type: "load_failed"; message: string }
  | { type: "running"; jobId: string }
  | { type: "progress"; jobId: string; stage: string; step: number; totalSteps: number; preview: Uint8Array | null }
  | {
      type: "result";
      jobId: string;
      provenance: GpuProvenanceReport;
      outputs: PipelineOutput[];
      intermediates: Array<{ kind: string } & EncodedImage>;
      faces: FaceDetection[];
      chosenFace: number;
      stagesMs: Record<string, number>;
    }
  | { type: "failed"; jobId: string; error: JobError; faces?: FaceDetection[]; stagesMs: Record<string, number> }
  | { type: "canceled"; jobId: string };
