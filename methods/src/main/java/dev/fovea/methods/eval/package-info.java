/**
 * VQA evaluation, independent of models: {@link dev.fovea.methods.eval.VqaDataset} reads question files
 * (TextVQA's JSON, our JSONL, ViCrop's answer boxes) into {@link dev.fovea.methods.eval.VqaItem}s; {@link
 * dev.fovea.methods.eval.VqaAccuracy} scores an answer with the EvalAI/m4c normalization of {@link
 * dev.fovea.methods.eval.VqaAnswerProcessor} and the leave-one-out rule; {@link
 * dev.fovea.methods.eval.SizeSplit} buckets questions by answer-box size (ViCrop's small, medium,
 * large); {@link dev.fovea.methods.eval.VqaEvaluation} runs an answerer over the items and records each
 * result in a resumable {@link dev.fovea.methods.eval.ResultsJournal}. The methods spec, sections 1.9 and
 * 4.2, is the reference.
 */
package dev.fovea.methods.eval;
