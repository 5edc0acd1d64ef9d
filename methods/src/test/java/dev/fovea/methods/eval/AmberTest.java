package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AMBER on the hand-made data folder of src/test/resources/amber/data (AMBER's layout, our own words),
 * every value worked by hand in the comments.
 */
class AmberTest {
  @TempDir Path tmp;
  Path images;

  static Path data() {
    try {
      return Path.of(AmberTest.class.getResource("/amber/data").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @BeforeEach
  void images() throws IOException {
    images = Files.createDirectories(tmp.resolve("images"));
    for (String n : List.of("AMBER_1.png", "AMBER_2.png", "AMBER_3.png")) {
      Files.write(images.resolve(n), new byte[] {1});
    }
  }

  /** The descriptions and answers of the hand-made run, by (image, query). */
  static final Map<String, String> ANSWERS = Map.ofEntries(
      Map.entry("AMBER_1.png|Describe this image.",
          "The sky is clear and a man stands on the ground near two dogs. You can see the light of the sun. Dogs are happy."),
      Map.entry("AMBER_2.png|Describe this image.", "Two boats and a ship sail past a boy, a person and a car with its tires. Birds fly."),
      Map.entry("AMBER_3.png|Describe this image.", "A forest of trees; they watch nothing."),
      Map.entry("AMBER_1.png|Is there a person in this image?", "Yes, there is."),
      Map.entry("AMBER_1.png|Is there a car in this image?", "No."),
      Map.entry("AMBER_1.png|Is the sky dark in this image?", "There isn't one."),
      Map.entry("AMBER_2.png|Are there two ships in this image?", "No"),
      Map.entry("AMBER_2.png|Does the man swim in this image?", "Yes"),
      Map.entry("AMBER_2.png|Is the man on the ship?", "yes"),
      Map.entry("AMBER_2.png|Is the ship flying over the man?", "Maybe."));

  static final ImageAnswerer ANSWERER = (image, prompt, seed) -> ImageAnswerer.Answer.of(ANSWERS.get(image.getFileName() + "|" + prompt));

  @Test
  void readsTheDataFolder() throws Exception {
    AmberDataset d = AmberDataset.read(data(), AmberDataset.Queries.ALL, images);
    assertEquals(10, d.items().size());
    assertEquals(List.of(1, 2, 10, 3, 4, 5, 6, 7, 8, 9), d.items().stream().map(AmberDataset.Item::id).toList());
    assertEquals(List.of("generative", "generative", "generative", "existence", "existence", "attribute-state", "attribute-number",
        "attribute-action", "relation", "relation"), d.items().stream().map(i -> i.kind().split).toList());
    assertEquals(List.of("ship", "ship", "man"), d.items().get(1).truth());
    assertEquals(YesNo.NO, d.items().get(9).label(), "type \"relation\" is a relation question");
    assertEquals(java.util.Set.of("light", "sign"), d.safeWords());
    assertEquals(7, AmberDataset.read(data(), AmberDataset.Queries.DISCRIMINATIVE, images).items().size());
    assertEquals(2, AmberDataset.read(data(), AmberDataset.Queries.RELATION, images).items().size());
    AnswerEvaluation.Item first = d.evaluationItems().get(3);
    assertEquals(new AnswerEvaluation.Item("existence", "3", "AMBER_1.png", images.resolve("AMBER_1.png"), "Is there a person in this image?", YesNo.YES),
        first);
  }

  /**
   * Description 1, truth [sky, grass, person], hallu [cloud, dog, sun]: nouns sky, man, ground, dog, light, sun ("can" after "You"
   * is no noun; the capitalised "Dogs" matches nothing, as in the reference). sky covers sky, man covers person (an association of
   * person), ground covers grass; dog is hallucinated and covers hallu dog; light is a safe word; sun is hallucinated, covers sun.
   * Description 2, truth [ship, ship, man], hallu [bird, car]: boat, ship, boy, person, car, tire. boat and ship cover the first ship
   * only (the second can never be covered); boy and person cover man; car and tire are hallucinated and cover car.
   * Description 3, truth [tree], hallu [bird]: forest (covers tree), tree; "watch" after "they" is no noun.
   */
  @Test
  void generativeScoresByHand() throws Exception {
    AmberDataset d = AmberDataset.read(data(), AmberDataset.Queries.GENERATIVE, images);
    AmberScores.Generative g1 = AmberScores.score(ANSWERS.get("AMBER_1.png|Describe this image."), List.of("sky", "grass", "person"),
        List.of("cloud", "dog", "sun"), d.association(), d.safeWords());
    assertEquals(List.of("sky", "man", "ground", "dog", "light", "sun"), g1.nouns());
    assertEquals(List.of("dog", "sun"), g1.hallucinated());
    assertArrayEquals(new boolean[] {true, true, true}, g1.truthCovered());
    assertArrayEquals(new boolean[] {false, true, true}, g1.halluCovered());
    AmberScores.Generative g2 = AmberScores.score(ANSWERS.get("AMBER_2.png|Describe this image."), List.of("ship", "ship", "man"),
        List.of("bird", "car"), d.association(), d.safeWords());
    assertEquals(List.of("boat", "ship", "boy", "person", "car", "tire"), g2.nouns());
    assertEquals(List.of("car", "tire"), g2.hallucinated());
    assertArrayEquals(new boolean[] {true, false, true}, g2.truthCovered());
    assertArrayEquals(new boolean[] {false, true}, g2.halluCovered());
    AmberScores.Generative g3 = AmberScores.score("A forest of trees; they watch nothing.", List.of("tree"), List.of("bird"), d.association(),
        d.safeWords());
    assertEquals(List.of("forest", "tree"), g3.nouns());
    assertEquals(List.of(), g3.hallucinated());
    assertEquals(List.of("watch", "can", "tie"), AmberScores.nouns("a watch, the can and his tie", java.util.Set.of("watch", "can", "tie")));
    assertEquals(List.of("man", "woman", "child", "box", "strawberry"),
        AmberScores.nouns("men women children boxes strawberries", java.util.Set.of("man", "woman", "child", "box", "strawberry")));
    assertEquals(List.of("glass"), AmberScores.nouns("glasses", java.util.Set.of("glass", "glasses")), "the shortest vocabulary form, as WordNet's min(len)");
  }

  /**
   * The whole run. Generative: nouns 6 + 6 + 2 = 14, hallucinated 2 + 2 + 0 = 4: CHAIR = 4/14 = 28.571%; truth objects 3 + 3 + 1 = 7,
   * covered 3 + 2 + 1 = 6: Cover = 85.714%; descriptions with a hallucination 2 of 3: Hal = 66.667%; hallu objects 3 + 2 + 1 = 6,
   * covered 2 + 1 + 0 = 3: Cog = 50%.
   * Discriminative (AvisC's parser; "No" positive): 3 yes/"Yes, there is." right yes; 4 no/"No." right No; 5 no/"There isn't one."
   * right No; 6 yes/"No" wrong No; 7 no/"Yes" wrong yes; 8 yes/"yes" right yes; 9 no/"Maybe." wrong yes. Right No 2, wrong No 1,
   * right yes 2, wrong yes 2: accuracy 4/7, precision 2/3, recall 2/4, F1 = 2 (2/3)(1/2) / (7/6) = 4/7.
   * Existence 2/2 right: 100 everywhere. Attribute: right No 1, wrong No 1, wrong yes 1: accuracy 1/3, P 1/2, R 1/2, F1 1/2.
   * Number: one wrong No: accuracy 0, P 0, R undefined. Relation: right yes 1, wrong yes 1: accuracy 1/2, P undefined, R 0.
   * AMBER score = (100 - 400/14 + 400/7) / 2 = 50 + 100/7.
   */
  @Test
  void wholeRunByHandAndResumed() throws Exception {
    AmberDataset d = AmberDataset.read(data(), AmberDataset.Queries.ALL, images);
    Path out = tmp.resolve("amber.jsonl");
    AnswerEvaluation.Outcome o;
    try (EvalJournal j = EvalJournal.open(out, Journal.Run.of("none", "fake"))) {
      o = new AnswerEvaluation(ANSWERER, j, "none", YesNoParser.AVISC, 42).run(d.evaluationItems());
    }
    assertEquals(10, o.answered());
    AmberScores.Summary s = d.score(o.records());
    assertEquals(new AmberScores.Summary(3, 2, 14, 4, 7, 6, 6, 3, s.discriminative()), s);
    assertEquals(100.0 * 4 / 14, s.chair(), 1e-12);
    assertEquals(100.0 * 6 / 7, s.cover(), 1e-12);
    assertEquals(100.0 * 2 / 3, s.hal(), 1e-12);
    assertEquals(50.0, s.cog(), 1e-12);
    PopeMetrics all = s.all();
    assertEquals(new PopeMetrics(2, 1, 2, 2, 0), all);
    assertEquals(100.0 * 4 / 7, all.accuracy(), 1e-12);
    assertEquals(100.0 * 2 / 3, all.precision(), 1e-12);
    assertEquals(50.0, all.recall(), 1e-12);
    assertEquals(100.0 * 4 / 7, all.f1(), 1e-12);
    assertEquals(100.0, s.discriminative().get("existence").f1(), 1e-12);
    PopeMetrics attribute = s.discriminative().get("attribute");
    assertEquals(100.0 / 3, attribute.accuracy(), 1e-12);
    assertEquals(50.0, attribute.f1(), 1e-12);
    assertEquals(0.0, s.discriminative().get("attribute-number").precision(), 1e-12);
    assertTrue(Double.isNaN(s.discriminative().get("attribute-number").recall()));
    assertTrue(Double.isNaN(s.discriminative().get("relation").precision()));
    assertEquals(50.0, s.discriminative().get("relation").accuracy(), 1e-12);
    assertEquals(List.of("all", "existence", "attribute", "attribute-state", "attribute-number", "attribute-action", "relation"),
        List.copyOf(s.discriminative().keySet()));
    assertEquals(50 + 100.0 / 7, s.amberScore(), 1e-12);
    assertEquals(64.2857142857, s.toJson().get("amber_score").asDouble(), 1e-9);
    assertEquals(28.5714285714, s.toJson().get("generative").get("chair").asDouble(), 1e-9);
    assertTrue(s.toJson().get("discriminative").get("relation").get("precision").isNull());
    String table = s.toTable();
    assertTrue(table.contains("28.57  4 / 14 nouns") && table.contains("AMBER score (100 - CHAIR + F1) / 2: 64.29"), table);

    // a rerun takes every record from the file; a record whose prompt changed is refused
    try (EvalJournal j = EvalJournal.open(out, Journal.Run.of("none", "fake"))) {
      AnswerEvaluation.Outcome again = new AnswerEvaluation((i, p, seed) -> {
        throw new AssertionError("nothing to answer");
      }, j, "none", YesNoParser.AVISC, 42).run(d.evaluationItems());
      assertEquals(10, again.resumed());
      assertEquals(s, d.score(again.records()));
      List<AnswerEvaluation.Item> changed = d.evaluationItems().stream()
          .map(i -> i.id().equals("4") ? new AnswerEvaluation.Item(i.split(), i.id(), i.image(), i.imagePath(), "Is there a bus?", i.label()) : i)
          .toList();
      EvaluationException e = assertThrows(EvaluationException.class, () -> new AnswerEvaluation(ANSWERER, j, "none", YesNoParser.AVISC, 42)
          .run(changed));
      assertTrue(e.getMessage().contains("the record of item 4 of existence does not match the data (prompt \"Is there a car in this image?\" there,"),
          e.getMessage());
    }
    // only descriptions: no AMBER score; only questions: no generative part
    AmberScores.Summary gen = AmberDataset.read(data(), AmberDataset.Queries.GENERATIVE, images)
        .score(o.records().stream().filter(r -> r.split().equals("generative")).toList());
    assertTrue(Double.isNaN(gen.amberScore()) && gen.discriminative().isEmpty());
    assertFalse(gen.toJson().has("discriminative"));
  }

  /** Every kind of bad input: one message naming the file, the entry and the field. */
  @Test
  void badData() throws Exception {
    Path dir = tmp.resolve("data");
    Files.createDirectories(dir.resolve("query"));
    try (Stream<Path> files = Files.walk(data())) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        Files.copy(p, dir.resolve(data().relativize(p).toString()));
      }
    }
    Path q = dir.resolve("query/query_all.json");
    Path a = dir.resolve("annotations.json");
    String queries = Files.readString(q);
    String annotations = Files.readString(a);
    Object[][] cases = {
        {q, queries.replace("{\"id\": 2, \"image\": \"AMBER_2.png\", ", "{\"image\": \"AMBER_2.png\", "), q + ", [1] (line 3, column 5), field \"id\": missing"},
        {q, queries.replace("AMBER_3.png", "AMBER_9.png"), q + ", [2] (line 4, column 5), field \"image\": no such file: " + images.resolve("AMBER_9.png")},
        {q, queries.replace("{\"id\": 9,", "{\"id\": 11,"), q + ", [9] (line 11, column 5), field \"id\": id 11 has no entry in " + a},
        {q, queries.replace("{\"id\": 9,", "{\"id\": 8,"), q + ", [9] (line 11, column 5), field \"id\": duplicate id 8, first at [8] (line 10, column 5)"},
        {q, queries.replace("\"query\": \"Describe this image.\"}", "\"query\": 7}"), q + ", [0] (line 2, column 5), field \"query\": must be a string, found a number"},
        {a, annotations.replace("\"discriminative-attribute-action\"", "\"discriminative-colour\""),
            a + ", [6] (line 8, column 5), field \"type\": unknown type \"discriminative-colour\""},
        {a, annotations.replace("\"type\": \"relation\", \"truth\": \"no\"", "\"type\": \"relation\", \"truth\": \"perhaps\""),
            a + ", [8] (line 10, column 5), field \"truth\": unknown label \"perhaps\""},
        {a, annotations.replace("\"hallu\": [\"bird\", \"car\"]", "\"hallu\": [\"bird\", \"unicorn\"]"),
            a + ", [1] (line 3, column 5), field \"hallu\": \"unicorn\" is not a word of relation.json"},
        {a, annotations.replace(", \"hallu\": [\"bird\"]", ""), a + ", [9] (line 11, column 5), field \"hallu\": missing"},
        {a, annotations.substring(0, 100), a + ", line 2, column 99: bad JSON: Unexpected end-of-input"},
    };
    for (Object[] c : cases) {
      Files.writeString(q, queries);
      Files.writeString(a, annotations);
      Files.writeString((Path) c[0], (String) c[1]);
      EvalDataException e = assertThrows(EvalDataException.class, () -> AmberDataset.read(dir, AmberDataset.Queries.ALL, images), (String) c[2]);
      assertTrue(e.getMessage().startsWith((String) c[2]), e.getMessage());
    }
    Files.writeString(q, queries);
    Files.writeString(a, annotations);
    Files.delete(dir.resolve("safe_words.txt"));
    EvalDataException e = assertThrows(EvalDataException.class, () -> AmberDataset.read(dir, AmberDataset.Queries.ALL, images));
    assertTrue(e.getMessage().startsWith(dir.resolve("safe_words.txt") + ": no such file"), e.getMessage());
  }
}
