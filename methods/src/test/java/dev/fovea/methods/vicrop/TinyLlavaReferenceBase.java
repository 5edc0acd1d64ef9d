package dev.fovea.methods.vicrop;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.tensor.WeightSource;
import dev.fovea.vit.tokenizer.TextTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Loads the tiny reference LLaVA, its tokenizer and the reference outputs once per test class ({@link VicropFixtures}). */
abstract class TinyLlavaReferenceBase {
  static LlavaForConditionalGeneration model;
  static TextTokenizer tokenizer;
  static WeightSource ref;
  static JsonNode meta;

  @BeforeAll
  static void load() {
    model = VicropFixtures.model();
    tokenizer = VicropFixtures.tokenizer();
    ref = VicropFixtures.reference();
    meta = VicropFixtures.meta();
  }

  @AfterAll
  static void close() {
    model.close();
    ref.close();
  }
}
