// llama.cpp (the prebuilt CPU libraries inside node-llama-cpp, pinned by package-lock.json) timed on
// a GGUF with the same prompt ids as fovea's LlamaBench: prefill of `context` tokens, then greedy
// decode of `newTokens` tokens at context ~`context`. Prints one JSON line per repetition.
//
//   node bench.mjs model.gguf context newTokens threads reps [mmap: 1 (default, llama.cpp's default) or 0]
import {getLlama} from "node-llama-cpp";

const [modelPath, contextArg, newArg, threadsArg, repsArg, mmapArg] = process.argv.slice(2);
const useMmap = (mmapArg ?? "1") !== "0";
const context = Number(contextArg), nNew = Number(newArg), threads = Number(threadsArg), reps = Number(repsArg ?? 3);
const llama = await getLlama({gpu: false, logLevel: "error"});
const model = await llama.loadModel({modelPath, useMmap});
// LlamaBench.prompt(context): ids spread over the vocabulary
const tokens = Array.from({length: context}, (_, i) => (i * 7919 + 3) % 32000);
const ctx = await model.createContext({contextSize: context + nNew + 16, batchSize: Math.max(512, context), threads});
for (let rep = 0; rep < reps; rep++) {
  const seq = ctx.getSequence();
  let t0 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(tokens);
  const prefill = (performance.now() - t0) / 1000;
  let n = 0;
  let t1 = performance.now();
  for await (const tok of seq.evaluate([tokens[tokens.length - 1]], {temperature: 0})) {
    if (n === 0) t1 = performance.now(); // the first token closes the evaluation of the last prompt id
    n++;
    if (n > nNew) break;
  }
  const decode = (performance.now() - t1) / 1000;
  console.log(JSON.stringify({model: modelPath, rep, threads, prompt_tokens: tokens.length, prefill_s: prefill,
    prefill_tok_s: tokens.length / prefill, decode_tokens: n - 1, decode_tok_s: (n - 1) / decode, mmap: useMmap, cpu_variant: llama.buildType}));
  seq.dispose();
}
await ctx.dispose();
await model.dispose();
