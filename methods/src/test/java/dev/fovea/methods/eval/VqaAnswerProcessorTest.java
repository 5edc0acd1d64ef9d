package dev.fovea.methods.eval;

import static dev.fovea.methods.eval.VqaAnswerProcessor.normalize;
import static dev.fovea.methods.eval.VqaAnswerProcessor.processPunctuation;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every rule of the m4c / EvalAI normalization, on answers whose expected forms were worked out by hand
 * from the reference's rules (LLaVA {@code llava/eval/m4c_evaluator.py}), step by step as the comments
 * show. None of the expected values is computed by our code.
 */
class VqaAnswerProcessorTest {
  private static void check(String raw, String expected) {
    assertEquals(expected, normalize(raw), () -> "normalize(\"" + raw.replace("\n", "\\n").replace("\t", "\\t") + "\")");
  }

  @Test
  void caseAndWhitespace() {
    check("Coca Cola", "coca cola");
    check("  two\tdogs\n", "2 dogs"); // tab to space, strip, "two" -> 2
    check("new\nyork", "new york");
    check("red   car", "red car"); // runs of spaces collapse when the words are joined again
    check("red\u00a0car", "red car"); // Python's split() treats the no-break space as whitespace
    check("line\r\nbreak", "line break"); // \r is not replaced but splits like any whitespace
    check("", "");
    check(" \t\n ", "");
  }

  @Test
  void commasAndQuestionMarksAreDeletedFirst() {
    check("yes, it is?", "yes it is");
    check("1,000", "1000");
    check("why?", "why");
  }

  @Test
  void apostropheSBecomesItsOwnWord() {
    check("the man's hat", "man 's hat"); // 's split off, then the article goes
    check("It'S", "it 's"); // lowercased before the split
    check("let's", "let 's"); // so the table's let's -> let's never applies
    check("he's", "he 's");
    check("hes", "he's"); // while the contraction table's output keeps its 's
  }

  @Test
  void punctuationNextToASpaceIsDeleted() {
    check("hello - world", "hello world"); // " -" in the text: the hyphen is deleted
    check("stars (5)", "stars 5"); // "(" follows a space: deleted; ")" touches no space: a space
  }

  @Test
  void punctuationNotNextToASpaceBecomesASpace() {
    check("coca-cola", "coca cola");
    check("e-mail", "e mail");
    check("a/b", "b"); // "a b", and "a" is an article
  }

  @Test
  void theSpaceTestLooksAtTheTextBeforeThisStep() {
    // "(" -> space gives " -x-y)", which has " -"; but the test reads the original "(-x-y)", which has
    // no hyphen next to a space, so the hyphens become spaces too
    check("(-x-y)", "x y");
    // one hyphen next to a space deletes every hyphen
    check("x-y -z", "xy z");
  }

  /** Each of the 21 characters, in both branches: {@code x<p>y} and {@code x<p>y <p>z}. */
  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
      "x;y    | x y | x;y ;z    | xy z",
      "x/y    | x y | x/y /z    | xy z",
      "x[y    | x y | x[y [z    | xy z",
      "x]y    | x y | x]y ]z    | xy z",
      "x\"y   | x y | x\"y \"z  | xy z",
      "x{y    | x y | x{y {z    | xy z",
      "x}y    | x y | x}y }z    | xy z",
      "x(y    | x y | x(y (z    | xy z",
      "x)y    | x y | x)y )z    | xy z",
      "x=y    | x y | x=y =z    | xy z",
      "x+y    | x y | x+y +z    | xy z",
      "x\\y   | x y | x\\y \\z  | xy z",
      "x_y    | x y | x_y _z    | xy z",
      "x-y    | x y | x-y -z    | xy z",
      "x>y    | x y | x>y >z    | xy z",
      "x<y    | x y | x<y <z    | xy z",
      "x@y    | x y | x@y @z    | xy z",
      "x`y    | x y | x`y `z    | xy z",
      "x,y    | xy  | x,y ,z    | xy z", // commas are gone before the punctuation step
      "x?y    | xy  | x?y ?z    | xy z", // so are question marks
      "x!y    | x y | x!y !z    | xy z",
  })
  void eachPunctuationCharacter(String notNextToSpace, String expectSpace, String nextToSpace, String expectDeleted) {
    check(notNextToSpace, expectSpace);
    check(nextToSpace, expectDeleted);
  }

  @Test
  void otherPunctuationIsKept() {
    check("50%", "50%");
    check("at&t", "at&t");
    check("3:30", "3:30");
    check("#1", "#1");
    check("rock'n'roll", "rock'n'roll");
  }

  @Test
  void digitCommaDigitDeletesAllPunctuation() {
    // the punctuation step on its own (the official vqaEval.py applies it to raw answers)
    assertEquals("10002000", processPunctuation("1,000-2,000"));
    assertEquals("25 xy", processPunctuation("2,5 x/y")); // the slash touches no space, yet is deleted
    assertEquals("a b c", processPunctuation("a,b-c")); // no digit-comma-digit: spaces
    // in the full pipeline the commas are already gone, so the hyphen becomes a space
    check("1,000-2,000", "1000 2000");
  }

  @Test
  void periodsNotFollowedByADigitAreDeleted() {
    check("end.", "end");
    check("3.5", "3.5");
    check(".5", ".5");
    check("5.", "5");
    check("3.x", "3x"); // the regex's "(?!<=\d)" is a lookahead, not "not after a digit"
    check("a.m.", "am");
    check("version 2.0.", "version 2.0");
    check("..5", ".5");
  }

  @Test
  void onlyTheFirst32PeriodsAreDeleted() {
    // re.UNICODE (32) lands in sub()'s count argument: 40 periods, 32 deleted, 8 left
    check("x" + ".".repeat(40), "x........");
  }

  @Test
  void numberWords() {
    check("none", "0");
    check("zero", "0");
    check("one", "1");
    check("two", "2");
    check("three", "3");
    check("four", "4");
    check("five", "5");
    check("six", "6");
    check("seven", "7");
    check("eight", "8");
    check("nine", "9");
    check("ten", "10");
    check("Ten", "10");
    check("ten.", "10");
    check("one two three", "1 2 3");
    check("eleven", "eleven");
    check("someone", "someone"); // whole words only
  }

  @Test
  void articles() {
    check("the cat", "cat");
    check("a dog", "dog");
    check("an apple", "apple");
    check("The End", "end");
    check("theory", "theory");
    check("the", "");
    check("an a the", "");
  }

  @Test
  void contractions() {
    check("dont", "don't");
    check("isnt", "isn't");
    check("cant", "can't");
    check("wont", "won't");
    check("whats", "what's");
    check("yall'll", "y'all'll");
    check("'ows'at", "'ow's'at");
    check("somebody'd", "somebodyd"); // the table's own quirk
    check("the dont", "don't"); // after the article is dropped
    check("don't", "don't");
    check("Im", "im"); // capitalised keys never match lowercased text
    check("Ive", "ive");
    check("ow's'at", "ow 's'at"); // nor keys with 's in them
  }

  @Test
  void everythingTogether() {
    // "yes it's the coca-cola!" -> "yes it 's the coca-cola!" -> "yes it 's the coca cola " -> drop "the"
    check("Yes, it's the Coca-Cola!", "yes it 's coca cola");
    // "the answer is: two (2)..." -> "(" deleted (after a space), ")" a space, "..." deleted
    check("  The Answer is: TWO (2)... ", "answer is: 2 2");
  }

  @Test
  void theTableHas120Entries() {
    assertEquals(120, VqaAnswerProcessor.CONTRACTIONS.size());
    assertEquals(21, VqaAnswerProcessor.PUNCTUATION.size());
  }
}
