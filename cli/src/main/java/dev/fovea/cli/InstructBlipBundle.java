package dev.fovea.cli;

import dev.fovea.llm.instructblip.InstructBlipException;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.tokenizer.TextTokenizer;
import dev.fovea.vit.tokenizer.WordPieceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An InstructBLIP folder (Salesforce/instructblip-vicuna-7b layout) with what travels beside it: the
 * LLaMA tokenizer, the Q-Former's WordPiece tokenizer ({@code qformer_tokenizer/vocab.txt}) and the
 * BlipImageProcessor ({@code preprocessor_config.json}; absent: 224 x 224 as the conversion script
 * configures it).
 */
record InstructBlipBundle(InstructBlipForConditionalGeneration model, TextTokenizer tokenizer, WordPieceTokenizer qformerTokenizer,
    ImageProcessor processor) implements AutoCloseable {

  /** Whether {@code model} is a folder whose config.json says {@code "model_type": "instructblip"}. */
  static boolean isInstructBlip(Path model) {
    Path config = model.resolve("config.json");
    if (!Files.isDirectory(model) || !Files.isRegularFile(config)) {
      return false;
    }
    try {
      var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(config.toFile());
      return node != null && "instructblip".equals(node.path("model_type").asText(""));
    } catch (java.io.IOException e) {
      return false; // the LLaVA loader reports the bad file
    }
  }

  static InstructBlipBundle open(Path folder) {
    Path vocab = folder.resolve("qformer_tokenizer").resolve("vocab.txt");
    if (!Files.isRegularFile(vocab)) {
      throw new InstructBlipException(folder + ": no qformer_tokenizer/vocab.txt (the Q-Former's bert-base-uncased vocabulary, as the hub folder carries it)");
    }
    InstructBlipForConditionalGeneration lm = InstructBlipForConditionalGeneration.load(folder);
    try {
      TextTokenizer tokenizer = TokenizerLoader.load(folder);
      WordPieceTokenizer qformer = TokenizerLoader.fromVocabTxt(vocab);
      Path pre = folder.resolve("preprocessor_config.json");
      ImageProcessor processor = Files.isRegularFile(pre) ? ImageProcessor.fromConfig(pre)
          : new ImageProcessor(PreprocessorConfig.blip(lm.config.visionConfig().imageSize()));
      return new InstructBlipBundle(lm, tokenizer, qformer, processor);
    } catch (RuntimeException e) {
      lm.close();
      throw e;
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
