package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * CHAIR against an independent run: {@code tools/reference/chair/make_chair_reference.py} (NLTK's own
 * tokenizer, pattern's singular rules and chair.py's steps written out in Python) scored the captions of
 * src/test/resources/chair/exact into reference.json. The totals are also worked by hand below.
 */
class ChairReferenceTest {
  private static JsonNode reference() throws Exception {
    return JsonlFile.JSON.readTree(ChairTest.fixture("exact/reference.json").toFile());
  }

  @Test
  void singularAndTokensMatchTheReference() throws Exception {
    JsonNode ref = reference();
    for (Map.Entry<String, JsonNode> e : ref.get("singular").properties()) {
      assertEquals(e.getValue().asText(), Singularizer.singular(e.getKey()), e.getKey());
    }
    for (Map.Entry<String, JsonNode> e : ref.get("tokens").properties()) {
      List<String> expected = new ArrayList<>();
      e.getValue().forEach(w -> expected.add(w.asText()));
      assertEquals(expected, WordTokenizer.tokenize(e.getKey().toLowerCase(java.util.Locale.ROOT)), e.getKey());
    }
    // by hand, the quirks that matter to CHAIR
    assertEquals("bu", Singularizer.singular("bus"));
    assertEquals("glas", Singularizer.singular("glass"));
    assertEquals("ty", Singularizer.singular("ties"));
    assertEquals("woman", Singularizer.singular("women"));
    assertEquals("cookies", Singularizer.singular("cookies"), "pattern returns an -ie plural unchanged");
  }

  /**
   * By hand (instances only): mentions 6 + 3 + 5 + 7 + 3 + 0 + 5 + 4 = 33; hallucinated 1 + 1 + 2 + 0 + 3 + 0 + 5 + 3 = 15;
   * captions with one: 1, 2, 3, 5, 7, 8 = 6 of 8; truth node words 3 + 2 + 3 + 2 + 1 + 3 + 2 + 3 = 19, mentioned 3 + 2 + 3 + 2 + 0 + 0 + 0 + 1
   * = 11. With the reference captions, image 5 gains person (lady) and cell phone (phone), image 4 cow (cattle) and bird (duck):
   * truth 21, caption 5's cell phone is no longer hallucinated (14) and is mentioned (12).
   */
  @Test
  void chairMatchesTheReferenceRun() throws Exception {
    JsonNode ref = reference();
    ChairVocabulary v = ChairVocabulary.load(ChairTest.fixture("exact/synonyms.txt"));
    CocoObjects instances = CocoObjects.readInstances(ChairTest.fixture("exact/instances.json"));
    assertEquals("three.png", instances.fileName(3));
    for (String mode : new String[] {"instances_only", "with_reference_captions"}) {
      CocoObjects truth = mode.equals("instances_only") ? instances : instances.withReferenceCaptions(ChairTest.fixture("exact/reference_captions.json"), v);
      Chair chair = new Chair(v, truth, "synonyms.txt");
      List<Chair.Caption> captions = Chair.readCaptions(ChairTest.fixture("exact/captions.jsonl"), truth);
      List<Chair.Scored> scored = captions.stream().map(chair::score).toList();
      JsonNode expected = ref.get(mode);
      for (int i = 0; i < scored.size(); i++) {
        JsonNode e = expected.get("captions").get(i);
        Chair.Scored s = scored.get(i);
        String at = mode + " caption " + (i + 1);
        assertEquals(strings(e.get("words")), ChairVocabulary.words(captions.get(i).text()), at);
        assertEquals(pairs(e.get("mentions")), s.mentions().stream().map(m -> m.word() + "/" + m.category()).toList(), at);
        assertEquals(pairs(e.get("hallucinated")), s.hallucinated().stream().map(m -> m.word() + "/" + m.category()).toList(), at);
        assertEquals(strings(e.get("truth")), List.copyOf(new java.util.TreeSet<>(s.truth())), at);
        assertEquals(strings(e.get("covered")), List.copyOf(new java.util.TreeSet<>(s.covered())), at);
      }
      JsonNode t = expected.get("summary");
      Chair.Summary sum = Chair.Summary.of(scored);
      assertEquals(new Chair.Summary(t.get("captions").asLong(), t.get("hallucinated_captions").asLong(), t.get("mentions").asLong(),
          t.get("hallucinated_mentions").asLong(), t.get("truth_objects").asLong(), t.get("covered_objects").asLong()), sum, mode);
      assertEquals(t.get("chair_s").asDouble(), sum.chairS(), 1e-9);
      assertEquals(t.get("chair_i").asDouble(), sum.chairI(), 1e-9);
      assertEquals(t.get("recall").asDouble(), sum.recall(), 1e-9);
    }
    // the hand count of the class comment
    Chair chair = new Chair(v, instances, "synonyms.txt");
    Chair.Summary s = Chair.Summary.of(Chair.readCaptions(ChairTest.fixture("exact/captions.jsonl"), instances).stream().map(chair::score).toList());
    assertEquals(new Chair.Summary(8, 6, 33, 15, 19, 11), s);
    assertEquals(75.0, s.chairS(), 1e-12);
    assertEquals(100.0 * 15 / 33, s.chairI(), 1e-12);
    assertEquals(100.0 * 11 / 19, s.recall(), 1e-12);
    CocoObjects withCaptions = instances.withReferenceCaptions(ChairTest.fixture("exact/reference_captions.json"), v);
    Chair chair2 = new Chair(v, withCaptions, "synonyms.txt");
    assertEquals(new Chair.Summary(8, 6, 33, 14, 21, 12),
        Chair.Summary.of(Chair.readCaptions(ChairTest.fixture("exact/captions.jsonl"), withCaptions).stream().map(chair2::score).toList()));
  }

  private static List<String> strings(JsonNode a) {
    List<String> out = new ArrayList<>();
    a.forEach(x -> out.add(x.asText()));
    return out;
  }

  private static List<String> pairs(JsonNode a) {
    List<String> out = new ArrayList<>();
    a.forEach(x -> out.add(x.get(0).asText() + "/" + x.get(1).asText()));
    return out;
  }
}
