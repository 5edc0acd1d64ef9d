package dev.fovea.cli;

import dev.fovea.methods.eval.AnswerEvaluation;
import dev.fovea.methods.eval.Chair;
import dev.fovea.methods.eval.ChairVocabulary;
import dev.fovea.methods.eval.CocoObjects;
import dev.fovea.methods.eval.EvalDataException;
import dev.fovea.methods.eval.EvalJournal;
import dev.fovea.methods.eval.EvalRecord;
import dev.fovea.methods.eval.ImageAnswerer;
import dev.fovea.methods.eval.PromptVariant;
import dev.fovea.methods.eval.YesNoParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * CHAIR (as {@code chair.py} computes it, {@link Chair}) of generated captions: either a captioning run
 * of the model over COCO images ({@code --images}, resumable results file like {@code eval pope}, any
 * {@code --decode}), or existing captions ({@code --captions}, no model).
 */
@Command(name = "chair", mixinStandardHelpOptions = true,
    description = {"CHAIR_s / CHAIR_i / recall of captions against COCO instance annotations, as chair.py computes them.",
        "With --images: captions each image with the model (resumable results JSONL, --decode none|vcd|avc|agla), then scores them.",
        "With --captions: scores existing captions, no model."})
final class EvalChairCommand extends EvalYesNoCommand {
  /** The captioning prompt of AVC's and VCD's CHAIR runs (and AMBER's generative queries). */
  static final String DEFAULT_CAPTION_PROMPT = "Describe this image.";

  @Option(names = "--captions", paramLabel = "FILE", description = "score this JSONL of {\"image_id\": <COCO image id>, \"caption\": \"...\"} instead of running a model")
  Path captions;

  @Option(names = "--annotations", required = true, paramLabel = "FILE", description = "COCO instances JSON (instances_val2014.json)")
  Path annotations;

  @Option(names = "--images", paramLabel = "DIR", description = "folder of the images (the instances file's file_name), to caption with the model")
  Path images;

  @Option(names = "--image-ids", paramLabel = "FILE",
      description = "the COCO image ids to caption, one a line (blank lines and # comments skipped) (default: every image of --annotations, in its order)")
  Path imageIds;

  @Option(names = "--caption-prompt", paramLabel = "TEXT", description = "what the model is asked (default: \"" + DEFAULT_CAPTION_PROMPT + "\")")
  String captionPrompt = DEFAULT_CAPTION_PROMPT;

  @Option(names = "--synonyms", paramLabel = "FILE",
      description = "CHAIR synonyms file in chair.py's layout (its data/synonyms.txt for published numbers) (default: fovea's own list of the 80 COCO categories)")
  Path synonyms;

  @Option(names = "--reference-captions", paramLabel = "FILE",
      description = "COCO captions JSON (captions_val2014.json): objects its reference captions mention count as present too, as chair.py does")
  Path referenceCaptions;

  private Chair chair;
  private List<AnswerEvaluation.Item> items;

  @Override
  public Integer call() throws Exception {
    if (captions == null) {
      if (images == null) {
        throw usage("give --images (caption the images with the model) or --captions (score existing captions)");
      }
      return super.call();
    }
    if (images != null || model != null || imageIds != null) {
      throw usage("--captions scores existing captions; --images, --image-ids and --model run the model: give one or the other");
    }
    EvalResultsOptions.requireFile(spec, "--captions", captions);
    CocoObjects truth = truth();
    List<Chair.Scored> scored = Chair.readCaptions(captions, truth).stream().map(chair::score).toList();
    Chair.Summary s = Chair.Summary.of(scored);
    PrintWriter out = spec.commandLine().getOut();
    if (results.json) {
      out.println(s.toJson());
    } else {
      out.printf("%s against %s%s: %d captions%n", captions.getFileName(), annotations.getFileName(),
          referenceCaptions == null ? "" : " + " + referenceCaptions.getFileName(), s.captions());
      out.print(s.toTable());
    }
    out.flush();
    return 0;
  }

  /** Reads the annotations (and reference captions) and builds the scorer; options checked first. */
  private CocoObjects truth() throws IOException {
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
    chair = new Chair(vocabulary, truth, synonyms == null ? "fovea's default CHAIR synonyms" : synonyms.toString());
    return truth;
  }

  @Override
  String benchmark() {
    return "chair";
  }

  @Override
  PromptVariant defaultPrompt() {
    return PromptVariant.RAW;
  }

  @Override
  YesNoParser parser() {
    return YesNoParser.AVISC; // captions are not parsed; recorded in the settings as the base class records every run's parser
  }

  @Override
  long load() throws IOException {
    EvalResultsOptions.requireFolder(spec, "--images", images);
    if (imageIds != null) {
      EvalResultsOptions.requireFile(spec, "--image-ids", imageIds);
    }
    if (captionPrompt.isBlank()) {
      throw usage("--caption-prompt is empty");
    }
    CocoObjects truth = truth();
    Map<Long, String> ids = new LinkedHashMap<>(); // id -> the line of --image-ids that names it (null: the annotation file's list)
    if (imageIds == null) {
      for (long id : truth.images()) {
        ids.put(id, null);
      }
    } else {
      List<String> lines = Files.readAllLines(imageIds, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        long id;
        try {
          id = Long.parseLong(line);
        } catch (NumberFormatException e) {
          throw new EvalDataException(imageIds.toString(), "line " + (i + 1), null, "\"" + line + "\" is not a COCO image id (an integer)");
        }
        if (truth.objects(id) == null) {
          throw new EvalDataException(imageIds.toString(), "line " + (i + 1), null, "image " + id + " is not in " + annotations);
        }
        if (ids.containsKey(id)) {
          throw new EvalDataException(imageIds.toString(), "line " + (i + 1), null, "image " + id + " is listed twice, first at " + ids.get(id));
        }
        ids.put(id, "line " + (i + 1));
      }
    }
    String prompt = promptOption().apply(captionPrompt);
    items = new ArrayList<>();
    for (Map.Entry<Long, String> e : ids.entrySet()) {
      String name = truth.fileName(e.getKey());
      if (name == null) {
        throw new EvalDataException(annotations.toString(), null, "file_name", "image " + e.getKey() + " has no file_name in the images list");
      }
      Path path = images.resolve(name);
      if (!Files.isRegularFile(path)) {
        String file = e.getValue() == null ? annotations.toString() : imageIds.toString();
        throw new EvalDataException(file, e.getValue(), null, "image " + e.getKey() + ": no such file: " + path);
      }
      items.add(new AnswerEvaluation.Item("chair", Long.toString(e.getKey()), name, path, prompt, null));
    }
    return items.size();
  }

  @Override
  Done loop(ImageAnswerer answerer, EvalJournal journal, String method, PromptVariant variant, YesNoParser parser, Progress.Questions bar)
      throws IOException {
    AnswerEvaluation eval = new AnswerEvaluation(answerer, journal, method, null, seed).listener(p -> bar.step(p.done(), Double.NaN, p.resumed()));
    if (results.limit != null) {
      eval.limit(results.limit);
    }
    AnswerEvaluation.Outcome o = eval.run(items);
    List<Chair.Scored> scored = new ArrayList<>();
    for (EvalRecord r : o.records()) {
      scored.add(chair.score(new Chair.Caption(Long.parseLong(r.id()), r.answer(), journal.file() + ", item " + r.id())));
    }
    Chair.Summary s = Chair.Summary.of(scored);
    var json = s.toJson();
    json.put("answered", o.answered());
    json.put("resumed", o.resumed());
    return new Done(o.answered(), o.resumed(), s.toTable(), json.toString());
  }

  @Override
  Map<String, String> dataSettings() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("data", annotations.getFileName().toString());
    m.put("image_ids", imageIds == null ? "all" : imageIds.getFileName().toString());
    m.put("caption_prompt", captionPrompt);
    return m;
  }

  @Override
  String dataName() {
    return annotations.getFileName() + (imageIds == null ? "" : " (" + imageIds.getFileName() + ")");
  }
}
