/** In place, per dimension d: y = (x + negMean[d]) · invStddev[d], in float (sherpa-onnx ApplyCMVN). */
export function applyCmvn(data: Float32Array, negMean: ArrayLike<number>, invStddev: ArrayLike<number>): Float32Array {
  const dim = negMean.length
  if (invStddev.length !== dim) throw new RangeError(`CMVN: neg_mean has ${dim} values, inv_stddev ${invStddev.length}`)
  if (dim === 0 || data.length % dim !== 0) throw new RangeError(`CMVN: ${data.length} feature values are not rows of ${dim}`)
  const mean = Float32Array.from(negMean)
  const scale = Float32Array.from(invStddev)
  for (let row = 0; row < data.length; row += dim) {
    for (let d = 0; d < dim; d++) data[row + d] = Math.fround(data[row + d]! + mean[d]!) * scale[d]!
  }
  return data
}
