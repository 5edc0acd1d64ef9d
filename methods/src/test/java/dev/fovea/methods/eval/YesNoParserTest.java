package dev.fovea.methods.eval;

import static dev.fovea.methods.eval.YesNo.NO;
import static dev.fovea.methods.eval.YesNo.OTHER;
import static dev.fovea.methods.eval.YesNo.YES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * The three POPE parsers and MME's on the answers where they part ways. Each expected value is read
 * off the reference rule by hand (spec 4.1, 4.4), written beside the case.
 */
class YesNoParserTest {
  private static void check(YesNoParser p, YesNo label, String answer, YesNo expected) {
    assertEquals(expected, p.parse(answer, label), p + " on \"" + answer + "\" (label " + label + ")");
  }

  @Test
  void popeStandardKeepsTheFirstSentenceAndMatchesWholeWordsWithCase() {
    YesNoParser p = YesNoParser.POPE;
    check(p, YES, "No.", NO); // "No" before the dot
    check(p, YES, "not", NO);
    check(p, YES, "nothing", YES); // not a whole word
    check(p, YES, "isn't", YES); // n't is not in POPE's list
    check(p, YES, "Yes, there is", YES);
    check(p, YES, "", YES); // no word says no
    check(p, YES, "NO", YES); // case matters: only No, no, not
    check(p, YES, "yes.", YES);
    check(p, YES, "Yes. There is no dog.", YES); // the no is after the first dot
    check(p, YES, "There is no cat in the image.", NO);
    check(p, YES, "No, there is not.", NO); // the comma is dropped: "No"
    check(p, YES, "no,", NO);
    check(p, NO, "Nope", YES);
  }

  @Test
  void vcdTestsSubstringsAgainstTheLabel() {
    YesNoParser p = YesNoParser.VCD;
    // yes label: yes when "yes" is in the lowercased answer, else no
    check(p, YES, "Yes, there is", YES);
    check(p, YES, "yes.", YES);
    check(p, YES, "No.", NO);
    check(p, YES, "", NO);
    check(p, YES, "YES", YES); // lowercased first
    check(p, YES, "Yes, no", YES);
    check(p, YES, "nothing", NO);
    // no label: no when "no" is in it, else yes
    check(p, NO, "No.", NO);
    check(p, NO, "NO", NO);
    check(p, NO, "not", NO);
    check(p, NO, "nothing", NO);
    check(p, NO, "I don't know", NO); // "no" inside "know"
    check(p, NO, "isn't", YES); // no "no" substring
    check(p, NO, "Yes, there is", YES);
    check(p, NO, "", YES);
    check(p, NO, "yes.", YES);
    check(p, NO, "Yes, no", NO);
    assertThrows(IllegalArgumentException.class, () -> p.parse("yes", null));
  }

  @Test
  void aviscDropsDotsAndCommasEverywhereAndReadsNt() {
    YesNoParser p = YesNoParser.AVISC;
    check(p, YES, "No.", NO);
    check(p, YES, "not", NO);
    check(p, YES, "nothing", YES);
    check(p, YES, "isn't", NO); // ends with n't
    check(p, YES, "There isn't one", NO);
    check(p, YES, "isn\u2019t", YES); // a typographic apostrophe is not n't
    check(p, YES, "Yes, there is", YES);
    check(p, YES, "", YES);
    check(p, YES, "NO", NO); // AvisC adds NO
    check(p, YES, "yes.", YES);
    check(p, YES, "Yes. There is no dog.", NO); // no first-sentence cut
    check(p, YES, "No,there", YES); // the comma goes, "Nothere" is one word
  }

  @Test
  void mmeKeepsExactAnswersThenLooksAtTheFirstFourCharacters() {
    YesNoParser p = YesNoParser.MME;
    check(p, YES, "yes", YES);
    check(p, YES, "Yes", YES); // lowercased first
    check(p, YES, "NO", NO);
    check(p, YES, "No.", NO); // "no." contains no
    check(p, YES, "Yes, there is", YES); // "yes,"
    check(p, YES, "nothing", NO); // "noth"
    check(p, YES, "not sure", NO); // "not "
    check(p, YES, "", OTHER);
    check(p, YES, "The answer is yes", OTHER); // "the "
    check(p, YES, "isn't", OTHER); // "isn'"
    check(p, YES, " yes", YES); // " yes" are the four
    check(p, YES, "  yes", OTHER); // "  ye"
    check(p, YES, "Yeah", OTHER);
    check(p, YES, "know", NO); // "know" contains no
  }

  @Test
  void namesAndLabels() {
    assertEquals(YesNoParser.AVISC, YesNoParser.named("AvisC"));
    assertEquals("unknown parser \"x\"; known: pope, vcd, avisc, mme",
        assertThrows(IllegalArgumentException.class, () -> YesNoParser.named("x")).getMessage());
    assertEquals(YES, YesNo.parseLabel(" Yes "));
    assertEquals(NO, YesNo.parseLabel("NO"));
    assertThrows(IllegalArgumentException.class, () -> YesNo.parseLabel("maybe"));
    assertThrows(IllegalArgumentException.class, () -> YesNo.parseLabel("other"));
    assertEquals("Is it? Please answer this question with one word.", PromptVariant.VCD.apply("Is it?"));
    assertEquals("Is it?", PromptVariant.RAW.apply("Is it?"));
    assertEquals("Is it? Answer the question using a single word or phrase.", PromptVariant.named("LLaVA").apply("Is it?"));
  }
}
