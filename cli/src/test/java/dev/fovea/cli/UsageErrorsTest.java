package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Usage errors exit 2 and say what is wrong in a few lines, with a hint to --help instead of the whole usage. */
class UsageErrorsTest {
  private static List<String> lines(String s) {
    return s.lines().toList();
  }

  @Test
  void noSubcommandListsTheSubcommandsAndExits2() {
    var r = LlamaAskCommandTest.run("eval");
    assertEquals(2, r.code(), r.err());
    assertEquals("", r.out());
    assertTrue(r.err().startsWith("fovea eval: missing subcommand"), r.err());
    assertTrue(r.err().contains("vqa "), r.err());

    r = LlamaAskCommandTest.run();
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea: missing subcommand"), r.err());
    assertTrue(r.err().contains("convert ") && r.err().contains("eval "), r.err());

    r = LlamaAskCommandTest.run("eval", "--help");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("vqa "), r.out());
  }

  @Test
  void aWrongOptionGivesOneLineAndAHint() {
    var r = LlamaAskCommandTest.run("convert", "in.safetensors", "-o", "out.fovea", "--bogus");
    assertEquals(2, r.code(), r.err());
    assertEquals(List.of("fovea convert: Unknown option: '--bogus'", "Try 'fovea convert --help' for more information."), lines(r.err()));

    r = LlamaAskCommandTest.run("convert", "in.safetensors");
    assertEquals(2, r.code(), r.err());
    assertEquals(List.of("fovea convert: Missing required option: '--output=<out.fovea>'", "Try 'fovea convert --help' for more information."),
        lines(r.err()));

    r = LlamaAskCommandTest.run("convert", "in.safetensors", "-o", "out.fovea", "--dtyp", "q8_0");
    assertEquals(2, r.code(), r.err());
    assertTrue(lines(r.err()).size() <= 6 && r.err().contains("--dtype"), "a suggestion, no usage: " + r.err());

    // a check inside a command's call
    r = LlamaAskCommandTest.run("classify", "--model", "m", "--image", "i.png", "--labels", "a,b", "--top", "0");
    assertEquals(2, r.code(), r.err());
    assertEquals(List.of("fovea classify: --top must be at least 1, got 0", "Try 'fovea classify --help' for more information."), lines(r.err()));
  }
}
