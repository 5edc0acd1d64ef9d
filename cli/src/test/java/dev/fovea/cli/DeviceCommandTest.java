package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.testing.TestBackend;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --device}: ask (LLaMA and LLaVA) and vicrop run on the test device of tensor's test-jar
 * ({@code -Dfovea.device.test=true} lets the commands accept {@code test[:N]}; its storage cannot be
 * read by host code, its kernels are the CPU's) and print exactly what they print on the CPU;
 * {@code --device cuda} on a machine without a GPU stops with "no CUDA device". InstructBLIP's
 * ask, AGLA (BLIP moved beside the LLaVA) and classify (plain CLIP and ABS with DINO) print on the
 * device what they print on the CPU. The CPU run is the expected value (checked against PyTorch by the
 * commands' own tests).
 */
class DeviceCommandTest {
  static final String DEVICE = "test:5";
  @TempDir Path tmp;

  @BeforeAll
  static void allowTestDevice() {
    System.setProperty("fovea.device.test", "true");
  }

  @AfterAll
  static void restore() {
    System.clearProperty("fovea.device.test");
  }

  static LlamaAskCommandTest.Run onBoth(String device, String... args) {
    String[] all = java.util.Arrays.copyOf(args, args.length + 2);
    all[args.length] = "--device";
    all[args.length + 1] = device;
    return LlamaAskCommandTest.run(all);
  }

  @Test
  void llamaAskOnTheDevicePrintsWhatTheCpuPrints() throws Exception {
    LlamaAskCommandTest maker = new LlamaAskCommandTest();
    maker.tmp = tmp;
    Path m = maker.gguf();
    String[] args = {"ask", "--model", m.toString(), "--prompt", "a b c", "--max-new-tokens", "8", "--json", "--no-progress"};
    var cpu = onBoth("cpu", args);
    var dev = onBoth(DEVICE, args);
    assertEquals(0, cpu.code(), cpu.err());
    assertEquals(0, dev.code(), dev.err());
    JsonNode a = new ObjectMapper().readTree(cpu.out());
    JsonNode b = new ObjectMapper().readTree(dev.out());
    assertEquals(a.get("tokens"), b.get("tokens"));
    assertEquals(a.get("text"), b.get("text"));
  }

  @Test
  void llavaAskOnTheDevicePrintsWhatTheCpuPrints() throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    String[] args = {"ask", "--model", LlavaAskCommandTest.MODEL.toString(), "--question", "What is this?", "--image", image.toString(),
        "--max-new-tokens", "6", "--json", "--no-progress"};
    var cpu = onBoth("cpu", args);
    TestBackend backend = (TestBackend) Backends.of(Device.parse(DEVICE));
    long weights = backend.globalBytes();
    var dev = onBoth(DEVICE, args);
    assertEquals(0, cpu.code(), cpu.err());
    assertEquals(0, dev.code(), dev.err());
    assertTrue(backend.globalBytes() > weights, "the command copied the model's weights to " + DEVICE);
    JsonNode a = new ObjectMapper().readTree(cpu.out());
    JsonNode b = new ObjectMapper().readTree(dev.out());
    assertEquals(a.get("tokens"), b.get("tokens"));
    assertEquals(a.get("text"), b.get("text"));
  }

  @Test
  void vicropOnTheDevicePrintsWhatTheCpuPrints() throws Exception {
    JsonNode c = VicropCommandTest.reference().get("cases").get("cats_grad");
    Path image = ClipClassifyCommandTest.sharedImage(c.get("image").asText());
    String[] args = {"vicrop", "--model", VicropCommandTest.MODEL.toString(), "--image", image.toString(), "--question", c.get("question").asText(),
        "--method", "grad-att", "--layer", "1", "--base-size", "224", "--baseline", "--json", "--no-progress"};
    var cpu = onBoth("cpu", args);
    var dev = onBoth(DEVICE, args);
    assertEquals(0, cpu.code(), cpu.err());
    assertEquals(0, dev.code(), dev.err());
    JsonNode a = new ObjectMapper().readTree(cpu.out());
    JsonNode b = new ObjectMapper().readTree(dev.out());
    assertEquals(c.get("box"), b.get("box"), "box of the torch reference");
    for (String f : new String[] {"box", "answer", "baseline"}) {
      assertEquals(a.get(f), b.get(f), f);
    }
  }

  @Test
  void cudaWithoutAGpuSaysSoAndAnUnknownDeviceIsRefused() throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    var cuda = LlamaAskCommandTest.run("ask", "--model", LlavaAskCommandTest.MODEL.toString(), "--question", "What?", "--image", image.toString(),
        "--no-progress", "--device", "cuda");
    if (cuda.code() != 0) { // a machine with a GPU answers instead
      assertTrue(cuda.err().contains("no CUDA device"), cuda.err());
    }
    var unknown = LlamaAskCommandTest.run("ask", "--model", LlavaAskCommandTest.MODEL.toString(), "--question", "What?", "--image", image.toString(),
        "--no-progress", "--device", "tpu");
    assertNotEquals(0, unknown.code());
    assertTrue(unknown.err().contains("--device must be cpu or cuda[:N]"), unknown.err());
    for (String cmd : new String[] {"classify", "demo"}) {
      var r = ClipClassifyCommandTest.run(cmd, "--device", "tpu");
      assertNotEquals(0, r.code(), cmd);
    }
  }

  /** Runs {@code args} on the CPU and on the test device; both succeed; their JSON outputs. */
  static JsonNode[] both(java.util.function.Function<String[], String[]> run, String... args) throws Exception {
    JsonNode[] out = new JsonNode[2];
    String[] devices = {"cpu", DEVICE};
    for (int i = 0; i < 2; i++) {
      String[] all = java.util.Arrays.copyOf(args, args.length + 2);
      all[args.length] = "--device";
      all[args.length + 1] = devices[i];
      String[] r = run.apply(all);
      assertEquals("0", r[0], devices[i] + ": " + r[2]);
      out[i] = new ObjectMapper().readTree(r[1]);
    }
    return out;
  }

  static String[] ask(String[] args) {
    var r = LlamaAskCommandTest.run(args);
    return new String[] {Integer.toString(r.code()), r.out(), r.err()};
  }

  static String[] classify(String[] args) {
    var r = ClipClassifyCommandTest.run(args);
    return new String[] {Integer.toString(r.code()), r.out(), r.err()};
  }

  @Test
  void instructBlipAskOnTheDevicePrintsWhatTheCpuPrints() throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    TestBackend backend = (TestBackend) Backends.of(Device.parse(DEVICE));
    long weights = backend.globalBytes();
    JsonNode[] r = both(DeviceCommandTest::ask, "ask", "--model", InstructBlipAskCommandTest.MODEL.toString(), "--question", "What is this?",
        "--image", image.toString(), "--max-new-tokens", "6", "--json", "--no-progress");
    assertTrue(backend.globalBytes() > weights, "the command copied InstructBLIP's weights to " + DEVICE);
    assertEquals(r[0].get("tokens"), r[1].get("tokens"));
    assertEquals(r[0].get("text"), r[1].get("text"));
  }

  @Test
  void aglaOnTheDeviceMovesBlipBesideLlavaAndPrintsWhatTheCpuPrints() throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    JsonNode[] r = both(DeviceCommandTest::ask, "ask", "--model", AglaCommandTest.MODEL.toString(), "--image", image.toString(), "--question",
        "Is there a cat in the image?", "--max-new-tokens", "6", "--json", "--no-progress", "--decode", "agla", "--blip",
        AglaCommandTest.BLIP.toString(), "--blip-layer", "1");
    assertEquals("agla", r[1].get("decode").asText());
    assertEquals(r[0].get("tokens"), r[1].get("tokens"));
    java.util.Iterator<String> names = r[0].fieldNames();
    while (names.hasNext()) {
      String f = names.next();
      if (!f.endsWith("_ms") && !f.endsWith("_per_s") && !f.contains("nanos") && !f.contains("seconds")) {
        assertEquals(r[0].get(f), r[1].get(f), f);
      }
    }
  }

  @Test
  void classifyPlainAndAbsOnTheDevicePrintWhatTheCpuPrints(@TempDir Path cache) throws Exception {
    Path ref = AbsClassifyCommandTest.REF;
    JsonNode[] plain = both(DeviceCommandTest::classify, "classify", "--model", ref.resolve("tiny-clip14").toString(), "--image",
        AbsClassifyCommandTest.IMAGE.toString(), "--labels", ref.resolve("classes.json").toString(), "--json", "--no-progress");
    assertEquals(plain[0], plain[1]);
    JsonNode[] abs = both(DeviceCommandTest::classify, "classify", "--model", ref.resolve("tiny-clip14").toString(), "--image",
        AbsClassifyCommandTest.IMAGE.toString(), "--labels", ref.resolve("classes.json").toString(), "--method", "abs", "--json",
        "--no-progress", "--bank-cache", cache.toString(), "--descriptions", ref.resolve("descriptions.json").toString(), "--dino",
        ref.resolve("tiny-dino").toString(), "--seed", "3", "--descriptions-per-class", "5");
    assertEquals(abs[0].get("predictions"), abs[1].get("predictions"));
  }
}
