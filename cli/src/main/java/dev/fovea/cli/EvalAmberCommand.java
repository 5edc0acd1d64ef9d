package dev.fovea.cli;

import dev.fovea.methods.eval.AmberDataset;
import dev.fovea.methods.eval.AmberScores;
import dev.fovea.methods.eval.AnswerEvaluation;
import dev.fovea.methods.eval.EvalJournal;
import dev.fovea.methods.eval.ImageAnswerer;
import dev.fovea.methods.eval.PromptVariant;
import dev.fovea.methods.eval.YesNoParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * AMBER (methods spec 4.5, {@link AmberScores}): the model describes the generative queries' images and
 * answers the yes/no queries; CHAIR, Cover, Hal, Cog, accuracy / precision / recall / F1 per dimension
 * and the AMBER score. Resumable results file, decoding methods and bad-input handling as {@code eval pope}.
 */
@Command(name = "amber", mixinStandardHelpOptions = true,
    description = "AMBER of LLaVA-1.5 / InstructBLIP: generative CHAIR / Cover / Hal / Cog, discriminative accuracy / precision / recall / F1"
        + " (No positive) per dimension, AMBER score; resumable results JSONL.")
final class EvalAmberCommand extends EvalYesNoCommand {
  @Option(names = "--data", required = true, paramLabel = "DIR",
      description = "AMBER's data folder: annotations.json, relation.json, safe_words.txt, query/query_*.json")
  Path data;

  @Option(names = "--images", required = true, paramLabel = "DIR", description = "folder of AMBER's images (AMBER_1.jpg ...)")
  Path images;

  @Option(names = "--queries", paramLabel = "SET",
      description = "which query file: all, generative, discriminative, existence, attribute or relation (AMBER's a, g, d, de, da, dr) (default: ${DEFAULT-VALUE})")
  String queries = "all";

  @Option(names = "--parser", paramLabel = "pope|vcd|avisc",
      description = "yes/no reading of the discriminative answers (AMBER scores exactly Yes / No; AvisC maps answers first) (default: ${DEFAULT-VALUE})")
  String parserName = "avisc";

  private AmberDataset dataset;
  private List<AnswerEvaluation.Item> items;

  @Override
  String benchmark() {
    return "amber";
  }

  @Override
  PromptVariant defaultPrompt() {
    return PromptVariant.RAW; // AvisC asks AMBER's queries as they are (spec 2.7)
  }

  private AmberDataset.Queries querySet() {
    try {
      return AmberDataset.Queries.named(queries);
    } catch (IllegalArgumentException e) {
      throw usage("--queries: " + e.getMessage());
    }
  }

  @Override
  YesNoParser parser() {
    YesNoParser p;
    try {
      p = YesNoParser.named(parserName);
    } catch (IllegalArgumentException e) {
      throw usage("--parser: " + e.getMessage());
    }
    if (p == YesNoParser.MME) {
      throw usage("--parser must be pope, vcd or avisc for AMBER, got mme");
    }
    return p;
  }

  @Override
  long load() throws IOException {
    AmberDataset.Queries set = querySet();
    EvalResultsOptions.requireFolder(spec, "--data", data);
    EvalResultsOptions.requireFolder(spec, "--images", images);
    dataset = AmberDataset.read(data, set, images);
    PromptVariant variant = promptOption();
    items = new ArrayList<>();
    for (AnswerEvaluation.Item i : dataset.evaluationItems()) {
      items.add(new AnswerEvaluation.Item(i.split(), i.id(), i.image(), i.imagePath(), variant.apply(i.prompt()), i.label()));
    }
    return items.size();
  }

  @Override
  Done loop(ImageAnswerer answerer, EvalJournal journal, String method, PromptVariant variant, YesNoParser parser, Progress.Questions bar)
      throws IOException {
    AnswerEvaluation eval = new AnswerEvaluation(answerer, journal, method, parser, seed).listener(p -> bar.step(p.done(), Double.NaN, p.resumed()));
    if (results.limit != null) {
      eval.limit(results.limit);
    }
    AnswerEvaluation.Outcome o = eval.run(items);
    AmberScores.Summary s = dataset.score(o.records());
    var json = s.toJson();
    json.put("answered", o.answered());
    json.put("resumed", o.resumed());
    return new Done(o.answered(), o.resumed(), s.toTable(), json.toString());
  }

  @Override
  Map<String, String> dataSettings() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("data", data.toAbsolutePath().normalize().getFileName().toString());
    m.put("queries", querySet().cliName);
    return m;
  }

  @Override
  String dataName() {
    return "AMBER " + querySet().cliName + " (" + data.getFileName() + ")";
  }
}
