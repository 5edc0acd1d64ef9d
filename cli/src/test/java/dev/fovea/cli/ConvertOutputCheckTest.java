package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.archive.ArchiveReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code convert} never destroys its input nor silently replaces a file (issue 21 item 4). */
class ConvertOutputCheckTest {
  @TempDir Path tmp;

  private static LlamaAskCommandTest.Run convert(String... args) {
    String[] all = new String[args.length + 2];
    all[0] = "convert";
    System.arraycopy(args, 0, all, 1, args.length);
    all[all.length - 1] = "--no-progress";
    return LlamaAskCommandTest.run(all);
  }

  /** A copy of the tiny LLaMA folder (config.json + model.safetensors). */
  private Path folder() throws Exception {
    Path f = Files.createDirectories(tmp.resolve("llama"));
    for (String n : List.of("config.json", "model.safetensors")) {
      Files.copy(GgufConvertAskTest.TINY.resolve(n), f.resolve(n));
    }
    return f;
  }

  private static void refused(LlamaAskCommandTest.Run r, String why) {
    assertEquals(1, r.code(), r.out() + r.err());
    assertTrue(r.err().contains(why), r.err());
  }

  @Test
  void anOutputInsideTheInputFolderUnderALoadedNameIsRefused() throws Exception {
    Path f = folder();
    byte[] weights = Files.readAllBytes(f.resolve("model.safetensors"));
    byte[] config = Files.readAllBytes(f.resolve("config.json"));
    for (String name : List.of("model.safetensors", "config.json", "tokenizer.model", "pytorch_model.bin", "x.gguf", "model.fovea")) {
      Path out = f.resolve(name);
      LlamaAskCommandTest.Run r = convert(f.toString(), "-o", out.toString());
      refused(r, out + ": ");
      assertTrue(r.err().contains("inside the input folder"), r.err());
      // --force does not make it acceptable
      refused(convert(f.toString(), "-o", out.toString(), "--force"), "inside the input folder");
    }
    assertArrayEquals(weights, Files.readAllBytes(f.resolve("model.safetensors")));
    assertArrayEquals(config, Files.readAllBytes(f.resolve("config.json")));
    assertEquals(List.of("config.json", "model.safetensors"), Files.list(f).map(p -> p.getFileName().toString()).sorted().toList());
    // the same folder spelled another way, and a weight file input whose folder is the target's
    refused(convert(f.resolve("../llama").toString(), "-o", f.resolve("model.safetensors").toString()), "inside the input folder");
    refused(convert(f.resolve("model.safetensors").toString(), "-o", f.resolve("config.json").toString()), "inside the input folder");
    assertArrayEquals(config, Files.readAllBytes(f.resolve("config.json")));
  }

  @Test
  void theInputItselfIsRefusedUnderAnySpelling() throws Exception {
    LlamaAskCommandTest fixture = new LlamaAskCommandTest();
    fixture.tmp = tmp;
    Path gguf = fixture.gguf();
    byte[] before = Files.readAllBytes(gguf);
    refused(convert(gguf.toString(), "-o", gguf.toString()), "is the input");
    refused(convert(gguf.toString(), "-o", gguf.toString(), "--force"), "is the input");
    Files.createDirectories(tmp.resolve("sub"));
    refused(convert(gguf.toString(), "-o", tmp.resolve("sub/../tiny.gguf").toString(), "--force"), "is the input");
    Path link = Files.createSymbolicLink(tmp.resolve("sub/link.fovea"), gguf);
    refused(convert(gguf.toString(), "-o", link.toString(), "--force"), "is the input");
    assertArrayEquals(before, Files.readAllBytes(gguf));
    // an archive re-converted onto itself
    Path a = tmp.resolve("sub/a.fovea");
    assertEquals(0, convert(gguf.toString(), "-o", a.toString(), "--dtype", "f32").code());
    byte[] archive = Files.readAllBytes(a);
    refused(convert(a.toString(), "-o", a.toString(), "--dtype", "q8_0", "--force"), "is the input");
    assertArrayEquals(archive, Files.readAllBytes(a));
    // --mmproj names an input too (refused before either file is opened)
    refused(convert(gguf.toString(), "--mmproj", a.toString(), "-o", a.toString(), "--force"), "is the input");
    // beside a file input, under a name no loader reads, is fine
    assertEquals(0, convert(gguf.toString(), "-o", tmp.resolve("tiny.fovea").toString()).code());
  }

  @Test
  void anExistingOutputNeedsForceAndAReadOnlyOneIsKept() throws Exception {
    Path f = folder();
    Path out = tmp.resolve("out.fovea");
    assertEquals(0, convert(f.toString(), "-o", out.toString(), "--dtype", "f32").code());
    byte[] f32 = Files.readAllBytes(out);
    refused(convert(f.toString(), "-o", out.toString(), "--dtype", "q8_0"), out + ": already exists; pass --force to replace it");
    assertArrayEquals(f32, Files.readAllBytes(out));
    LlamaAskCommandTest.Run r = convert(f.toString(), "-o", out.toString(), "--dtype", "q8_0", "--force");
    assertEquals(0, r.code(), r.err());
    try (ArchiveReader ar = ArchiveReader.open(out)) {
      assertEquals("q8_0", ar.metadata().get("fovea.dtype"));
    }
    byte[] q8 = Files.readAllBytes(out);
    Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("r--r--r--"));
    refused(convert(f.toString(), "-o", out.toString(), "--dtype", "f32", "--force"), out + ": is read-only");
    assertArrayEquals(q8, Files.readAllBytes(out));
    refused(convert(f.toString(), "-o", tmp.toString()), "is a folder");
    assertEquals(List.of("llama", "out.fovea"), Files.list(tmp).map(p -> p.getFileName().toString()).sorted().toList());
  }
}
