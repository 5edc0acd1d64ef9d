package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CHAIR on the hand-made case of src/test/resources/chair, every count worked by hand. */
class ChairTest {
  @TempDir Path tmp;

  static Path fixture(String name) {
    try {
      return Path.of(ChairTest.class.getResource("/chair/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> categories(ChairVocabulary v, String caption) {
    return v.mentions(caption).stream().map(ChairVocabulary.Mention::category).toList();
  }

  @Test
  void matchingTakesTheLongestPhraseAndRegularPlurals() {
    ChairVocabulary v = ChairVocabulary.defaults();
    assertEquals(80, v.categories().size());
    assertEquals(List.of("person", "dog", "cat"), categories(v, "A man walks two dogs past a cat."));
    assertEquals(List.of("teddy bear", "bear"), categories(v, "A teddy bear and a bear."), "teddy bear is not a bear");
    assertEquals(List.of("hot dog", "dining table", "dog"), categories(v, "Hot-dogs on the TABLE; a dog."));
    assertEquals(List.of("dog", "bench", "person", "person"), categories(v, "puppies, benches, people and a person's hat"));
    assertEquals(List.of("bus", "bus", "knife", "wine glass"), categories(v, "buses, a bus, knives, wine glasses"));
    assertEquals(List.of("tie", "skis", "skis"), categories(v, "ties, skis, a ski"));
    assertEquals(List.of(), categories(v, "nothing here: a dogsled, catalogues"), "no partial words");
    assertEquals("hot dog", v.mentions("two hot dogs").get(0).words().replace("dogs", "dog"));
  }

  /**
   * The five captions of captions.jsonl against instances_tiny.json:
   * 1. image 101 {person, dog}: man, dogs, cat: 3 mentions, cat hallucinated, covers 2 of 2.
   * 2. image 102 {cat, teddy bear}: kitten, bed, teddy bear: 3 mentions, bed hallucinated, covers 2 of 2.
   * 3. image 103 {dining table, hot dog}: hot dogs, table, dog, table: 4 mentions, dog hallucinated, covers 2 of 2.
   * 4. image 104 {}: nothing: 0 mentions, covers 0 of 0.
   * 5. image 101 {person, dog}: puppies: 1 mention, none hallucinated, covers 1 of 2.
   * CHAIR_s = 3 / 5 = 60%; CHAIR_i = 3 / 11 = 27.27%; recall = 7 / 8 = 87.5%.
   */
  @Test
  void chairByHand() throws Exception {
    CocoObjects truth = CocoObjects.readInstances(fixture("instances_tiny.json"));
    assertEquals(Set.of(101L, 102L, 103L, 104L), truth.images());
    assertEquals(Set.of("person", "dog"), truth.objects(101));
    assertEquals(Set.of(), truth.objects(104));
    Chair chair = new Chair(ChairVocabulary.defaults(), truth, "defaults");
    List<Chair.Caption> captions = Chair.readCaptions(fixture("captions.jsonl"), truth);
    List<Chair.Scored> scored = captions.stream().map(chair::score).toList();
    assertEquals(List.of(3, 3, 4, 0, 1), scored.stream().map(s -> s.mentions().size()).toList());
    assertEquals(List.of(1, 1, 1, 0, 0), scored.stream().map(s -> s.hallucinated().size()).toList());
    assertEquals("cat", scored.get(0).hallucinated().get(0).category());
    assertEquals("bed", scored.get(1).hallucinated().get(0).category());
    assertEquals("dog", scored.get(2).hallucinated().get(0).words());
    assertEquals(Set.of("dog"), scored.get(4).covered());
    Chair.Summary s = Chair.Summary.of(scored);
    assertEquals(new Chair.Summary(5, 3, 11, 3, 8, 7), s);
    assertEquals(60, s.chairS(), 1e-9);
    assertEquals(100.0 * 3 / 11, s.chairI(), 1e-9);
    assertEquals(87.5, s.recall(), 1e-9);
    assertEquals(27.27272727, s.toJson().get("chair_i").asDouble(), 1e-6);
    assertTrue(s.toTable().contains("CHAIR_s  60.00"), s.toTable());

    Chair.Summary none = Chair.Summary.of(List.of());
    assertTrue(Double.isNaN(none.chairS()) && Double.isNaN(none.chairI()) && Double.isNaN(none.recall()));
    assertTrue(none.toJson().get("chair_s").isNull());
  }

  @Test
  void referenceCaptionsAddObjects() throws Exception {
    CocoObjects truth = CocoObjects.readInstances(fixture("instances_tiny.json"))
        .withReferenceCaptions(fixture("captions_tiny.json"), ChairVocabulary.defaults());
    assertEquals(Set.of("dog", "couch"), truth.objects(104)); // "A dog sleeps on a sofa."
    assertEquals(Set.of("person", "dog"), truth.objects(101));
  }

  @Test
  void aSynonymsFileOfTheUsers() throws Exception {
    CocoObjects truth = CocoObjects.readInstances(fixture("instances_tiny.json"));
    Path syn = Files.writeString(tmp.resolve("synonyms.txt"), "dog, doggo, puppy\nperson, fellow\n\ndog, hound\n");
    Chair chair = new Chair(ChairVocabulary.load(syn), truth, syn.toString());
    // "cat" still matches by its category name; "man" is not in this list
    Chair.Scored s = chair.score(new Chair.Caption(101, "A fellow, a man, a doggo, two hounds and a cat.", "test"));
    assertEquals(List.of("person", "dog", "dog", "cat"), s.mentions().stream().map(ChairVocabulary.Mention::category).toList());

    Path bad = Files.writeString(tmp.resolve("bad.txt"), "dog, puppy\ncat, puppy\n");
    EvalDataException e = assertThrows(EvalDataException.class, () -> ChairVocabulary.load(bad));
    assertEquals(bad + ", line 2: \"puppy\" is listed under dog on line 1 and under cat here; a word names one category", e.getMessage());
    Path empty = Files.writeString(tmp.resolve("empty.txt"), "dog,, puppy\n");
    assertEquals(empty + ", line 1: an empty entry (two commas in a row, or one at an end)",
        assertThrows(EvalDataException.class, () -> ChairVocabulary.load(empty)).getMessage());
    Path unknown = Files.writeString(tmp.resolve("unknown.txt"), "doggo, puppy\n");
    e = assertThrows(EvalDataException.class, () -> new Chair(ChairVocabulary.load(unknown), truth, unknown.toString()));
    assertTrue(e.getMessage().startsWith(unknown + ": categories [doggo] are not among the annotation file's 80 categories"), e.getMessage());
  }

  @Test
  void badCaptionLinesAndAnnotations() throws Exception {
    CocoObjects truth = CocoObjects.readInstances(fixture("instances_tiny.json"));
    Path c = Files.writeString(tmp.resolve("c.jsonl"), "{\"image_id\": 101, \"caption\": \"a dog\"}\n{\"image_id\": 7, \"caption\": \"a cat\"}\n");
    assertEquals(c + ", line 2, field \"image_id\": image 7 is not in the annotation file",
        assertThrows(EvalDataException.class, () -> Chair.readCaptions(c, truth)).getMessage());
    Files.writeString(c, "{\"image_id\": 101}\n");
    assertEquals(c + ", line 1, field \"caption\": missing", assertThrows(EvalDataException.class, () -> Chair.readCaptions(c, truth)).getMessage());
    Files.writeString(c, "{\"image_id\": \"COCO_val2014_000000000101.jpg\", \"caption\": \"x\"}\n");
    assertTrue(assertThrows(EvalDataException.class, () -> Chair.readCaptions(c, truth)).getMessage()
        .startsWith(c + ", line 1, field \"image_id\": must be a COCO image id"));

    Path a = Files.writeString(tmp.resolve("a.json"), "{\"images\": [{\"id\": 1}], \"categories\": [{\"id\": 1, \"name\": \"dog\"}],\n"
        + "\"annotations\": [{\"image_id\": 1, \"category_id\": 2}]}");
    EvalDataException e = assertThrows(EvalDataException.class, () -> CocoObjects.readInstances(a));
    assertEquals(a + ", annotations[0] (line 2, column 17), field \"category_id\": category 2 is not in the categories list", e.getMessage());
    Files.writeString(a, "{\"images\": [{\"id\": 1}], \"annotations\": []}");
    assertTrue(assertThrows(EvalDataException.class, () -> CocoObjects.readInstances(a)).getMessage()
        .startsWith(a + ", field \"categories\": missing"));
  }
}
