/**
 * Benchmark evaluation, independent of models and decoding methods (methods spec sections 1.9, 4.1,
 * 4.2, 4.4, 4.5 and the CHAIR metric).
 *
 * <p><b>VQA</b>: {@link dev.fovea.methods.eval.VqaDataset} reads question files (TextVQA's JSON, our
 * JSONL, ViCrop's answer boxes) into {@link dev.fovea.methods.eval.VqaItem}s; {@link
 * dev.fovea.methods.eval.VqaAccuracy} scores an answer with the EvalAI/m4c normalization of {@link
 * dev.fovea.methods.eval.VqaAnswerProcessor} and the leave-one-out rule; {@link
 * dev.fovea.methods.eval.SizeSplit} buckets questions by answer-box size; {@link
 * dev.fovea.methods.eval.VqaEvaluation} runs an answerer over the items into a resumable {@link
 * dev.fovea.methods.eval.ResultsJournal}.
 *
 * <p><b>Yes/no benchmarks</b>: {@link dev.fovea.methods.eval.PopeDataset} and {@link
 * dev.fovea.methods.eval.MmeDataset} read POPE's JSONL and MME's folder into {@link
 * dev.fovea.methods.eval.YesNoItem}s; {@link dev.fovea.methods.eval.YesNoEvaluation} asks an {@link
 * dev.fovea.methods.eval.ImageAnswerer} (plain decoding, VCD, AVC: the one place a decoding method plugs
 * in) each question in a {@link dev.fovea.methods.eval.PromptVariant}, parses the answer with a {@link
 * dev.fovea.methods.eval.YesNoParser} and records an {@link dev.fovea.methods.eval.EvalRecord} in a
 * resumable {@link dev.fovea.methods.eval.EvalJournal}; {@link dev.fovea.methods.eval.PopeMetrics} and
 * {@link dev.fovea.methods.eval.MmeScores} score the records.
 *
 * <p><b>CHAIR</b>: {@link dev.fovea.methods.eval.Chair} scores captions against {@link
 * dev.fovea.methods.eval.CocoObjects} (COCO instance annotations, optionally reference captions) with a
 * {@link dev.fovea.methods.eval.ChairVocabulary} (a synonyms file, or fovea's default list), matching as
 * {@code chair.py} does: {@link dev.fovea.methods.eval.WordTokenizer} (NLTK's words) and {@link
 * dev.fovea.methods.eval.Singularizer} (pattern's singular).
 *
 * <p><b>AMBER</b>: {@link dev.fovea.methods.eval.AmberDataset} reads AMBER's data folder; {@link
 * dev.fovea.methods.eval.AmberScores} scores descriptions (CHAIR, Cover, Hal, Cog) and yes/no answers.
 *
 * <p>Captioning runs and AMBER use {@link dev.fovea.methods.eval.AnswerEvaluation}, the loop for items
 * with a free answer or a yes/no label, into the same {@link dev.fovea.methods.eval.EvalJournal}.
 *
 * <p>Both journals share {@link dev.fovea.methods.eval.Journal}: a header naming the run, one forced
 * whole line per item, a broken last line repaired on open, a file lock.
 */
package dev.fovea.methods.eval;
