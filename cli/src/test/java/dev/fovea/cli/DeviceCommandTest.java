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
 * {@code --device cuda} on a machine without a GPU stops with "no CUDA device"; InstructBLIP is
 * refused on a device by name. The CPU run is the expected value (checked against PyTorch by the
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
  void cudaWithoutAGpuSaysSoAndInstructBlipIsRefusedOnADevice() throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    var cuda = LlamaAskCommandTest.run("ask", "--model", LlavaAskCommandTest.MODEL.toString(), "--question", "What?", "--image", image.toString(),
        "--no-progress", "--device", "cuda");
    if (cuda.code() != 0) { // a machine with a GPU answers instead
      assertTrue(cuda.err().contains("no CUDA device"), cuda.err());
    }
    var blip = LlamaAskCommandTest.run("ask", "--model", InstructBlipAskCommandTest.MODEL.toString(), "--question", "What?", "--image",
        image.toString(), "--no-progress", "--device", DEVICE);
    assertNotEquals(0, blip.code());
    assertTrue(blip.err().contains("InstructBLIP does not run on a device yet"), blip.err());
    var unknown = LlamaAskCommandTest.run("ask", "--model", LlavaAskCommandTest.MODEL.toString(), "--question", "What?", "--image", image.toString(),
        "--no-progress", "--device", "tpu");
    assertNotEquals(0, unknown.code());
    assertTrue(unknown.err().contains("--device must be cpu or cuda[:N]"), unknown.err());
  }
}
