// The CKA part of the suite: figures from packages/metrics/bench/cka-bench.mjs (its `CKA_JSON` line), which
// measures the synchronous API, the asynchronous one on worker threads and numpy in the same run.

/** `result.cka` of the suite from the CKA bench's output. */
export function ckaFigures(output) {
  const lines = output.trim().split("\n");
  const json = lines.find((line) => line.startsWith("CKA_JSON "));
  const figures = json ? JSON.parse(json.slice("CKA_JSON ".length)) : {};
  return {
    lines: lines.filter((line) => !line.startsWith("CKA_JSON ")),
    ...figures,
  };
}

/** The readable summary lines of `result.cka`. */
export function ckaSummary(cka) {
  if (!cka.linear) return [];
  const f = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : "—");
  const out = [
    `CKA (${cka.kernel ?? "kernel not recorded"} kernel): linearCKA n=${cka.n} d=${cka.d} ${f(cka.linear.seconds, 3)} s, linearCKAAsync (${cka.threads} workers) ${f(cka.linearAsync?.seconds, 3)} s; MinibatchCKA 12×12 ${f(cka.minibatch?.seconds, 3)} s, updateAsync ${f(cka.minibatchAsync?.seconds, 3)} s`,
  ];
  if (cka.numpy) {
    const o = cka.overNumpy;
    out.push(
      `CKA: numpy ${cka.numpy.version} (${cka.numpy.blas}) linear ${f(cka.numpy.linearSeconds, 3)} s, minibatch ${f(cka.numpy.minibatchSeconds, 3)} s; time ÷ numpy: linear ${f(o.linear, 2)} sync / ${f(o.linearAsync, 2)} async (target ≤ 2), minibatch ${f(o.minibatch, 2)} / ${f(o.minibatchAsync, 2)}`,
    );
  }
  return out;
}
