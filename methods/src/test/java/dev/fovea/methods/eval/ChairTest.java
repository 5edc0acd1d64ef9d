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

  /** chair.py's steps, each worked by hand on fovea's default list. */
  @Test
  void matchingFollowsChairPy() {
    ChairVocabulary v = ChairVocabulary.defaults();
    assertEquals(80, v.categories().size());
    assertEquals(List.of("person", "dog", "cat"), categories(v, "A man walks two dogs past a cat."));
    // two-word entries are formed after the singular: teddy bears, hot dogs; a hyphen keeps one word
    assertEquals(List.of("teddy bear", "bear"), categories(v, "Two teddy bears and a bear."), "teddy bear is not a bear");
    assertEquals(List.of("dining table", "dog"), categories(v, "Hot-dogs on the TABLE; a dog."), "hot-dog is one word, not an object");
    assertEquals(List.of("hot dog", "hot dog"), categories(v, "hot dogs and a hot dog"));
    // qualifiers: a baby elephant is an elephant, not a person; a passenger train a train; the adult alone a person
    assertEquals(List.of("elephant", "train", "person"), categories(v, "a baby elephant, a passenger train and an adult"));
    // bow tie is a tie; toilet seat a toilet; a seat apart from a toilet is dropped when a toilet is mentioned
    assertEquals(List.of("tie", "toilet"), categories(v, "a bow tie by the toilet seat"));
    assertEquals(List.of("toilet"), categories(v, "the seat of the toilet"));
    assertEquals(List.of("chair"), categories(v, "the seat of the chair"));
    // pattern's singular: bus loses its s (bu, no object), buses become bus; wine glass goes through "wine glas"
    assertEquals(List.of("bus"), categories(v, "a bus and two buses"));
    assertEquals(List.of("wine glass", "wine glass"), categories(v, "a wine glass, two wine glasses"));
    assertEquals(List.of("person", "person", "knife", "mouse"), categories(v, "people's children with knives and mice"));
    assertEquals(List.of("skis", "skis"), categories(v, "ties, skis, a ski"), "ties become ty, no tie");
    assertEquals(List.of(), categories(v, "nothing here: a dogsled, catalogues"), "no partial words");
    ChairVocabulary.Mention m = v.mentions("Two hot dogs.").get(0);
    assertEquals(new ChairVocabulary.Mention("hot dog", "hot dog", 1), m);
    // every word goes through the singular, clitics too: 's loses its s
    assertEquals(List.of("two", "man", "'", "dog", "...", "(", "and", "a", "cat", ")", "!"), ChairVocabulary.words("Two men's dogs... (and a cat)!"));
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
    assertEquals("dog", scored.get(2).hallucinated().get(0).word());
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
    // chair.py's layout: entries cut at ", " exactly (" motor bike" after two spaces keeps its space and never matches);
    // a word on two lines belongs to the later one
    StringBuilder all = new StringBuilder();
    for (String c : truth.categories()) {
      all.append(c).append('\n');
    }
    all.append("dog, doggo, puppy\nperson, fellow\n\ndog, hound\nmotorcycle, scooter,  motor bike, motor cycle\ncat, doggo\n");
    Path syn = Files.writeString(tmp.resolve("synonyms.txt"), all.toString());
    ChairVocabulary v = ChairVocabulary.load(syn);
    assertEquals("cat", v.category("doggo"));
    assertEquals("motorcycle", v.category(" motor bike"));
    assertEquals(null, v.category("motor bike"));
    Chair chair = new Chair(v, truth, syn.toString());
    Chair.Scored s = chair.score(new Chair.Caption(101, "A fellow, a man, a doggo, two hounds, a motor bike and a motor cycle.", "test"));
    assertEquals(List.of("person", "cat", "dog", "motorcycle"), s.mentions().stream().map(ChairVocabulary.Mention::category).toList(),
        "man is not in this list; motor bike never matches");
    assertEquals(Set.of("person", "dog"), s.covered());

    Path unknown = Files.writeString(tmp.resolve("unknown.txt"), "doggo, puppy\n");
    EvalDataException e = assertThrows(EvalDataException.class, () -> new Chair(ChairVocabulary.load(unknown), truth, unknown.toString()));
    assertTrue(e.getMessage().startsWith(unknown + ": the annotation file's categories [airplane, apple, "), e.getMessage());
    Path empty = Files.writeString(tmp.resolve("empty.txt"), "# only a comment\n\n");
    assertEquals(empty + ": no object lines (one line per object: node word, synonym, ...)",
        assertThrows(EvalDataException.class, () -> ChairVocabulary.load(empty)).getMessage());
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
