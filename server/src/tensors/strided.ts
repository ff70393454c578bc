/**
 * The one strided walk behind reading Fortran-order `.npy` data and broadcasting a loss's weights:
 * fills `out` in row-major order of `shape`, reading `source` at the offsets `strides` give (a stride
 * of 0 repeats an axis). Browser-safe.
 */
export function gatherStrided<T>(source: ArrayLike<T>, out: { [index: number]: T; readonly length: number }, shape: readonly number[], strides: readonly number[]): void {
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = source[offset];
    // Advance the row-major counter, keeping the source offset in step.
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      offset += strides[axis];
      if (index[axis] < shape[axis]) break;
      offset -= strides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
}
