package dev.fovea.methods.eval;

import static dev.fovea.methods.eval.JsonlFile.where;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The ground-truth objects of COCO images, CHAIR's reference: for each image, the names of the
 * categories of its instance annotations ({@code instances_val2014.json}), and optionally the node words
 * of the objects its reference captions mention ({@code captions_val2014.json}, as {@code chair.py}
 * adds them); and each image's {@code file_name}, for captioning runs.
 *
 * <p>The instances file is streamed (the val2014 one is about 160 MB, most of it segmentation polygons,
 * which are skipped): {@code images} (each with {@code id}, optionally {@code file_name}), {@code annotations} (each with {@code
 * image_id} and {@code category_id}) and {@code categories} (each with {@code id} and {@code name}), in
 * any order; other fields are ignored. An annotation naming an image or category the file does not
 * list is an {@link EvalDataException} with the file, line and column.
 */
public final class CocoObjects {
  private static final ObjectMapper STREAM = JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

  private final Map<Long, Set<String>> objects; // image id -> category names
  private final Set<String> categories;
  private final Map<Long, String> fileNames; // image id -> file_name, where the file gives one

  private CocoObjects(Map<Long, Set<String>> objects, Set<String> categories, Map<Long, String> fileNames) {
    this.objects = objects;
    this.categories = Collections.unmodifiableSet(categories);
    this.fileNames = fileNames;
  }

  /**
   * An instances file's images and their objects.
   *
   * @throws EvalDataException naming the file and position of a malformed entry
   */
  public static CocoObjects readInstances(Path json) throws IOException {
    String file = json.toString();
    Set<Long> images = new LinkedHashSet<>();
    Map<Long, String> names = new HashMap<>();
    Map<Long, String> fileNames = new HashMap<>();
    List<long[]> pairs = new ArrayList<>(); // image id, category id
    List<String> pairWhere = new ArrayList<>();
    boolean[] sections = new boolean[3];
    try (JsonParser p = STREAM.createParser(json.toFile())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new EvalDataException(file, where(p.currentTokenLocation()), null, "expected a JSON object (COCO's instances layout)");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String section = p.currentName();
        JsonToken value = p.nextToken();
        int which = switch (section) {
          case "images" -> 0;
          case "annotations" -> 1;
          case "categories" -> 2;
          default -> -1;
        };
        if (which < 0) {
          p.skipChildren();
          continue;
        }
        if (value != JsonToken.START_ARRAY) {
          throw new EvalDataException(file, where(p.currentTokenLocation()), section, "must be a list");
        }
        sections[which] = true;
        for (int i = 0; p.nextToken() != JsonToken.END_ARRAY; i++) {
          String at = section + "[" + i + "] (" + where(p.currentTokenLocation()) + ")";
          if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new EvalDataException(file, at, null, "must be a JSON object");
          }
          long id = -1;
          long imageId = -1;
          long categoryId = -1;
          String name = null;
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            boolean wanted = switch (which) {
              case 0 -> field.equals("id") || field.equals("file_name");
              case 1 -> field.equals("image_id") || field.equals("category_id");
              default -> field.equals("id") || field.equals("name");
            };
            if (!wanted) {
              p.skipChildren();
            } else if (field.equals("name") || field.equals("file_name")) {
              if (t != JsonToken.VALUE_STRING) {
                throw new EvalDataException(file, at, field, "must be a string");
              }
              name = p.getText();
            } else {
              if (t != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0) {
                throw new EvalDataException(file, at, field, "must be an integer >= 0");
              }
              switch (field) {
                case "id" -> id = p.getLongValue();
                case "image_id" -> imageId = p.getLongValue();
                default -> categoryId = p.getLongValue();
              }
            }
          }
          switch (which) {
            case 0 -> {
              long image = require(id, file, at, "id");
              if (!images.add(image)) {
                throw new EvalDataException(file, at, "id", "image " + image + " is listed twice");
              }
              if (name != null) {
                fileNames.put(image, name);
              }
            }
            case 1 -> {
              pairs.add(new long[] {require(imageId, file, at, "image_id"), require(categoryId, file, at, "category_id")});
              pairWhere.add(at);
            }
            default -> {
              if (name == null || name.isBlank()) {
                throw new EvalDataException(file, at, "name", "missing");
              }
              names.put(require(id, file, at, "id"), name);
            }
          }
        }
      }
    } catch (JsonProcessingException e) {
      throw new EvalDataException(file, where(e.getLocation()), null, "bad JSON: " + e.getOriginalMessage(), e);
    }
    String[] sectionNames = {"images", "annotations", "categories"};
    for (int s = 0; s < 3; s++) {
      if (!sections[s]) {
        throw new EvalDataException(file, null, sectionNames[s], "missing: COCO's instances layout has images, annotations and categories");
      }
    }
    Map<Long, Set<String>> objects = new LinkedHashMap<>();
    for (Long image : images) {
      objects.put(image, new TreeSet<>());
    }
    for (int i = 0; i < pairs.size(); i++) {
      long[] pair = pairs.get(i);
      Set<String> set = objects.get(pair[0]);
      if (set == null) {
        throw new EvalDataException(file, pairWhere.get(i), "image_id", "image " + pair[0] + " is not in the images list");
      }
      String name = names.get(pair[1]);
      if (name == null) {
        throw new EvalDataException(file, pairWhere.get(i), "category_id", "category " + pair[1] + " is not in the categories list");
      }
      set.add(name);
    }
    return new CocoObjects(objects, new LinkedHashSet<>(names.values()), fileNames);
  }

  /**
   * These objects and, for each image, those its reference captions mention in {@code vocabulary}
   * (COCO's {@code captions_*.json}: {@code annotations} with {@code image_id} and {@code caption}).
   * Captions of images this file does not list are ignored.
   */
  public CocoObjects withReferenceCaptions(Path captionsJson, ChairVocabulary vocabulary) throws IOException {
    String file = captionsJson.toString();
    Map<Long, Set<String>> out = new LinkedHashMap<>();
    objects.forEach((k, v) -> out.put(k, new TreeSet<>(v)));
    boolean sawAnnotations = false;
    try (JsonParser p = STREAM.createParser(captionsJson.toFile())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new EvalDataException(file, where(p.currentTokenLocation()), null, "expected a JSON object (COCO's captions layout)");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String section = p.currentName();
        JsonToken value = p.nextToken();
        if (!section.equals("annotations")) {
          p.skipChildren();
          continue;
        }
        if (value != JsonToken.START_ARRAY) {
          throw new EvalDataException(file, where(p.currentTokenLocation()), section, "must be a list");
        }
        sawAnnotations = true;
        for (int i = 0; p.nextToken() != JsonToken.END_ARRAY; i++) {
          String at = "annotations[" + i + "] (" + where(p.currentTokenLocation()) + ")";
          JsonNode a = p.readValueAsTree();
          if (!a.isObject() || !a.path("image_id").canConvertToLong() || !a.path("image_id").isIntegralNumber() || !a.path("caption").isTextual()) {
            throw new EvalDataException(file, at, null, "must be an object with an integer image_id and a string caption");
          }
          Set<String> set = out.get(a.get("image_id").asLong());
          if (set != null) {
            for (ChairVocabulary.Mention m : vocabulary.mentions(a.get("caption").asText())) {
              set.add(m.category());
            }
          }
        }
      }
    } catch (JsonProcessingException e) {
      throw new EvalDataException(file, where(e.getLocation()), null, "bad JSON: " + e.getOriginalMessage(), e);
    }
    if (!sawAnnotations) {
      throw new EvalDataException(file, null, "annotations", "missing: COCO's captions layout keeps them in an \"annotations\" list");
    }
    return new CocoObjects(out, new LinkedHashSet<>(categories), fileNames);
  }

  /** The images the file lists. */
  public Set<Long> images() {
    return Collections.unmodifiableSet(objects.keySet());
  }

  /** The category names of an image's objects; null when the file does not list the image. */
  public Set<String> objects(long imageId) {
    Set<String> s = objects.get(imageId);
    return s == null ? null : Collections.unmodifiableSet(s);
  }

  /** The image's {@code file_name} in the images list, or null when it has none (or the image is not listed). */
  public String fileName(long imageId) {
    return fileNames.get(imageId);
  }

  /** The category names of the file, as it writes them. */
  public Set<String> categories() {
    return categories;
  }

  private static long require(long v, String file, String at, String field) {
    if (v < 0) {
      throw new EvalDataException(file, at, field, "missing");
    }
    return v;
  }
}
