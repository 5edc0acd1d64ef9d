package dev.fovea.cli;

import dev.fovea.llm.instructblip.InstructBlipException;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.tensor.archive.ArchiveReader;
import java.io.IOException;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.tokenizer.TextTokenizer;
import dev.fovea.vit.tokenizer.WordPieceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An InstructBLIP folder (Salesforce/instructblip-vicuna-7b layout) or a .fovea archive converted from
 * one, with what travels beside it: the
 * LLaMA tokenizer, the Q-Former's WordPiece tokenizer ({@code qformer_tokenizer/vocab.txt}) and the
 * BlipImageProcessor ({@code preprocessor_config.json}; absent: 224 x 224 as the conversion script
 * configures it).
 */
record InstructBlipBundle(InstructBlipForConditionalGeneration model, TextTokenizer tokenizer, WordPieceTokenizer qformerTokenizer,
    ImageProcessor processor) implements AutoCloseable {

  static final String QFORMER_VOCAB = "qformer_tokenizer/vocab.txt";

  /** Whether {@code model} is a folder or a .fovea archive whose config.json says {@code "model_type": "instructblip"}. */
  static boolean isInstructBlip(Path model) {
    try {
      byte[] json;
      if (Files.isRegularFile(model) && model.getFileName().toString().endsWith(".fovea")) {
        try (ArchiveReader a = ArchiveReader.open(model)) {
          if (!a.fileNames().contains("config.json")) {
            return false;
          }
          json = a.file("config.json");
        }
      } else {
        Path config = model.resolve("config.json");
        if (!Files.isDirectory(model) || !Files.isRegularFile(config)) {
          return false;
        }
        json = Files.readAllBytes(config);
      }
      var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
      return node != null && "instructblip".equals(node.path("model_type").asText(""));
    } catch (java.io.IOException | RuntimeException e) {
      return false; // the LLaVA loader reports the bad file
    }
  }

  /** An InstructBLIP folder, or a .fovea archive converted from one (it carries qformer_tokenizer/vocab.txt). */
  static InstructBlipBundle open(Path model) throws IOException {
    boolean archive = Files.isRegularFile(model) && model.getFileName().toString().endsWith(".fovea");
    byte[] vocab;
    byte[] pre;
    if (archive) {
      try (ArchiveReader a = ArchiveReader.open(model)) {
        vocab = a.fileNames().contains(QFORMER_VOCAB) ? a.file(QFORMER_VOCAB) : null;
        pre = a.fileNames().contains("preprocessor_config.json") ? a.file("preprocessor_config.json") : null;
      }
    } else {
      Path v = model.resolve(QFORMER_VOCAB);
      vocab = Files.isRegularFile(v) ? Files.readAllBytes(v) : null;
      Path p = model.resolve("preprocessor_config.json");
      pre = Files.isRegularFile(p) ? Files.readAllBytes(p) : null;
    }
    if (vocab == null) {
      throw new InstructBlipException(model + ": no " + QFORMER_VOCAB + " (the Q-Former's bert-base-uncased vocabulary, as the hub folder carries it)");
    }
    InstructBlipForConditionalGeneration lm = InstructBlipForConditionalGeneration.load(model);
    try {
      TextTokenizer tokenizer = LlavaBundle.tokenizer(model);
      WordPieceTokenizer qformer = archive ? fromBytes(vocab, model) : TokenizerLoader.fromVocabTxt(model.resolve(QFORMER_VOCAB));
      ImageProcessor processor = pre != null
          ? new ImageProcessor(PreprocessorConfig.fromJson(new com.fasterxml.jackson.databind.ObjectMapper().readTree(pre), model + " preprocessor_config.json"))
          : new ImageProcessor(PreprocessorConfig.blip(lm.config.visionConfig().imageSize()));
      return new InstructBlipBundle(lm, tokenizer, qformer, processor);
    } catch (IOException | RuntimeException e) {
      lm.close();
      throw e;
    }
  }

  /** The WordPiece vocabulary of an archive's side file (parsed from a temporary copy, removed at once). */
  private static WordPieceTokenizer fromBytes(byte[] vocab, Path archive) throws IOException {
    Path tmp = Files.createTempFile("fovea-qformer-vocab", ".txt");
    try {
      Files.write(tmp, vocab);
      return TokenizerLoader.fromVocabTxt(tmp);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
