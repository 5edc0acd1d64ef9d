package dev.fovea.cli;

import dev.fovea.methods.eval.Chair;
import dev.fovea.methods.eval.ChairVocabulary;
import dev.fovea.methods.eval.CocoObjects;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * CHAIR of existing captions (no model): CHAIR_s, CHAIR_i and recall against COCO's instance
 * annotations, with a synonyms file or fovea's default list.
 */
@Command(name = "chair", mixinStandardHelpOptions = true,
    description = "CHAIR_s / CHAIR_i / recall of generated captions against COCO instance annotations (scores existing captions; runs no model).")
final class EvalChairCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--captions", required = true, paramLabel = "FILE", description = "JSONL of {\"image_id\": <COCO image id>, \"caption\": \"...\"}")
  Path captions;

  @Option(names = "--annotations", required = true, paramLabel = "FILE", description = "COCO instances JSON (instances_val2014.json)")
  Path annotations;

  @Option(names = "--synonyms", paramLabel = "FILE",
      description = "CHAIR synonyms file: one line per category, \"name, synonym, ...\" (default: fovea's own list of the 80 COCO categories)")
  Path synonyms;

  @Option(names = "--reference-captions", paramLabel = "FILE",
      description = "COCO captions JSON (captions_val2014.json): objects its reference captions mention count as present too, as in the original CHAIR")
  Path referenceCaptions;

  @Option(names = "--json", description = "print the scores as JSON instead of a table")
  boolean json;

  @Override
  public Integer call() throws Exception {
    EvalResultsOptions.requireFile(spec, "--captions", captions);
    EvalResultsOptions.requireFile(spec, "--annotations", annotations);
    if (synonyms != null) {
      EvalResultsOptions.requireFile(spec, "--synonyms", synonyms);
    }
    if (referenceCaptions != null) {
      EvalResultsOptions.requireFile(spec, "--reference-captions", referenceCaptions);
    }
    ChairVocabulary vocabulary = synonyms == null ? ChairVocabulary.defaults() : ChairVocabulary.load(synonyms);
    CocoObjects truth = CocoObjects.readInstances(annotations);
    if (referenceCaptions != null) {
      truth = truth.withReferenceCaptions(referenceCaptions, vocabulary);
    }
    Chair chair = new Chair(vocabulary, truth, synonyms == null ? "fovea's default CHAIR synonyms" : synonyms.toString());
    List<Chair.Scored> scored = Chair.readCaptions(captions, truth).stream().map(chair::score).toList();
    Chair.Summary s = Chair.Summary.of(scored);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(s.toJson());
    } else {
      out.printf("%s against %s%s: %d captions%n", captions.getFileName(), annotations.getFileName(),
          referenceCaptions == null ? "" : " + " + referenceCaptions.getFileName(), s.captions());
      out.print(s.toTable());
    }
    out.flush();
    return 0;
  }
}
