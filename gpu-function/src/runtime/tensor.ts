/** Plain tensors: data plus dims, no runtime attached, so pipelines and tests stay free of onnxruntime. */
export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

export interface Tensor<D extends TensorData = TensorData> {
  data: D;
  dims: readonly number[];
}

export const float32 = (data: Float32Array, dims: readonly number[]): Tensor<Float32Array> => {
  if (data.length !== dims.reduce((a, b) => a * b, 1))
    throw new RangeError(`float32 tensor of ${data.length} values cannot have dims [${dims}]`);
  return { data, dims };
};

export const int64 = (values: ArrayLike<number>, dims: readonly number[]): Tensor<BigInt64Array> => ({
  data: BigInt64Array.from(Array.from(values, (v) => BigInt(v))),
  dims,
});
