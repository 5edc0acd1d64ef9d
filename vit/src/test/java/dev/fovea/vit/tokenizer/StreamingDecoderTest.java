package dev.fovea.vit.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.quicktheories.generators.SourceDSL;

class StreamingDecoderTest {
  private static final int EXAMPLES = Integer.getInteger("fovea.examples", 1000);

  @Test
  void holdsBackASplitCharacter() {
    byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // E2 82 AC
    StreamingDecoder d = new StreamingDecoder(id -> new byte[] {euro[id]}, false);
    assertEquals("", d.push(0));
    assertEquals("", d.push(1));
    assertEquals("€", d.push(2));
    assertEquals("", d.finish());
  }

  @Test
  void maximalSubpartReplacement() {
    // E2 82 then 'A': one U+FFFD for the ill-formed E2 82, as Python's errors="replace"
    assertEquals("\uFFFDA", Utf8.decode(new byte[] {(byte) 0xE2, (byte) 0x82, 'A'}, 0, 3));
    // ED A0 80 (a surrogate): three U+FFFD
    assertEquals("\uFFFD\uFFFD\uFFFD", Utf8.decode(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, 0, 3));
    // F0 9F 98 (incomplete at the end): one U+FFFD
    assertEquals("\uFFFD", Utf8.decode(new byte[] {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, 0, 3));
  }

  /** Valid UTF-8 decodes as the JDK decodes it. */
  @Test
  void agreesWithTheJdkOnValidText() {
    qt().withExamples(EXAMPLES).forAll(ClipTokenizerTest.unicodeText()).check(s -> {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      return Utf8.decode(b, 0, b.length).equals(s);
    });
  }

  /** Any byte sequence, cut into any pieces: streaming output equals whole decoding. */
  @Test
  void streamingEqualsWholeForAnyBytes() {
    qt().withExamples(EXAMPLES)
        .forAll(SourceDSL.lists().of(SourceDSL.integers().between(0, 255)
            .mix(SourceDSL.integers().between(0x80, 0xF4), 60)).ofSizeBetween(0, 24))
        .check(bytes -> {
          byte[] all = new byte[bytes.size()];
          for (int i = 0; i < all.length; i++) {
            all[i] = (byte) (int) bytes.get(i);
          }
          StreamingDecoder d = new StreamingDecoder(id -> new byte[] {all[id]}, false);
          StringBuilder sb = new StringBuilder();
          for (int i = 0; i < all.length; i++) {
            sb.append(d.push(i));
          }
          sb.append(d.finish());
          return sb.toString().equals(Utf8.decode(all, 0, all.length));
        });
  }
}
