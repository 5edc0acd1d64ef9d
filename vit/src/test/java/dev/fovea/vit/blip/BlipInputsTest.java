package dev.fovea.vit.blip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BLIP's text side and bad checkpoints: cleaning, the [ENC] convention, truncation, and errors that name the file and key or tensor. */
class BlipInputsTest {
  static final Path TINY = BlipReference.ROOT.resolve("tiny");
  @TempDir Path tmp;

  @Test
  void cleaningFollowsPreCaption() {
    assertEquals("a dog's fur soft", BlipText.clean("A  Dog's (fur): soft!!\n"));
    assertEquals("is there a cat in the image?", BlipText.clean("Is there a cat in the image?"));
    assertEquals("x, y", BlipText.clean("  x,\t\t y~ "));
    String many = "w ".repeat(60).strip();
    assertEquals(50, BlipText.clean(many).split(" ").length);
  }

  @Test
  void idsOfKnownTextsAndTheEncConvention() {
    BlipText text = BlipText.load(TINY);
    // HF's conversion script asserts "a picture of" -> 1037 3861 1997 between [CLS] and [SEP]
    assertArrayEquals(new int[] {101, 1037, 3861, 1997, 102}, text.itcIds("a picture of"));
    assertArrayEquals(new int[] {30523, 1037, 3861, 1997, 102}, text.itmIds("A picture of.", BlipText.Convention.ORIGINAL));
    assertArrayEquals(new int[] {101, 1037, 3861, 1997, 102}, text.itmIds("A picture of.", BlipText.Convention.HF));
    assertArrayEquals(new int[] {101, 1037, 2450, 3564, 2006, 1996, 3509, 2007, 2014, 3899, 102}, text.itcIds("a woman sitting on the beach with her dog"));
    int[] long40 = text.itcIds("cat ".repeat(40));
    assertEquals(BlipText.MAX_TOKENS, long40.length);
    assertEquals(102, long40[34]);
  }

  private Path copyTiny() throws IOException {
    Path d = Files.createDirectories(tmp.resolve("blip"));
    try (var files = Files.list(TINY)) {
      for (Path f : files.toList()) {
        Files.copy(f, d.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return d;
  }

  @Test
  void badConfigsNameTheFileAndTheKey() throws IOException {
    Path d = copyTiny();
    String cfg = Files.readString(d.resolve("config.json"));
    Files.writeString(d.resolve("config.json"), cfg.replace("\"num_attention_heads\": 2,\n    \"image_size\"", "\"num_attention_heads\": 3,\n    \"image_size\""));
    var e = assertThrows(BlipConfigException.class, () -> BlipForImageTextRetrieval.open(d));
    assertTrue(e.getMessage().contains(d.resolve("config.json").toString()) && e.getMessage().contains("vision_config.hidden_size"), e.getMessage());
    Files.writeString(d.resolve("config.json"), cfg.replace("\"encoder_hidden_size\": 32", "\"encoder_hidden_size\": 48"));
    e = assertThrows(BlipConfigException.class, () -> BlipForImageTextRetrieval.open(d));
    assertTrue(e.getMessage().contains("crossattention.self.key.weight"), e.getMessage());
    Files.writeString(d.resolve("config.json"), cfg.replace("\"patch_size\": 16", "\"patch_size\": -4"));
    e = assertThrows(BlipConfigException.class, () -> BlipForImageTextRetrieval.open(d));
    assertTrue(e.getMessage().contains("patch_size"), e.getMessage());
    Files.delete(d.resolve("config.json"));
    e = assertThrows(BlipConfigException.class, () -> BlipForImageTextRetrieval.open(d));
    assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("missing"), e.getMessage());
    assertThrows(BlipConfigException.class, () -> BlipForImageTextRetrieval.open(tmp.resolve("nope")));
    Files.delete(d.resolve("vocab.txt"));
    e = assertThrows(BlipConfigException.class, () -> BlipText.load(d));
    assertTrue(e.getMessage().contains("vocab.txt"), e.getMessage());
  }

  @Test
  void lavisNamesMapToHfAndUnusedTensorsAreSkipped() {
    assertEquals("vision_model.embeddings.class_embedding", BlipNames.toHf("visual_encoder.cls_token"));
    assertEquals("vision_model.encoder.layers.11.self_attn.projection.bias", BlipNames.toHf("visual_encoder.blocks.11.attn.proj.bias"));
    assertEquals("vision_model.encoder.layers.0.layer_norm2.weight", BlipNames.toHf("visual_encoder.blocks.0.norm2.weight"));
    assertEquals("vision_model.post_layernorm.bias", BlipNames.toHf("visual_encoder.norm.bias"));
    assertEquals("text_encoder.encoder.layer.3.crossattention.self.key.weight", BlipNames.toHf("text_encoder.encoder.layer.3.crossattention.self.key.weight"));
    for (String unused : new String[] {"visual_encoder_m.cls_token", "text_encoder_m.embeddings.LayerNorm.weight", "image_queue", "idx_queue", "temp"}) {
      assertEquals(null, BlipNames.toHf(unused), unused);
    }
  }
}
