package dev.fovea.vit.tokenizer;

import java.util.Map;

/**
 * A small subset of Python's {@code html.unescape}: numeric references ({@code &#39;},
 * {@code &#x27;}) and the common named entities, with the trailing ';' (and without it for the
 * legacy four {@code amp lt gt quot}, as HTML5 allows). The full HTML5 table (2,231 names) is not
 * ported; unknown names are left as they are.
 */
final class HtmlEntities {
  private static final Map<String, String> NAMED = Map.ofEntries(
      Map.entry("amp", "&"), Map.entry("lt", "<"), Map.entry("gt", ">"), Map.entry("quot", "\""),
      Map.entry("apos", "'"), Map.entry("nbsp", "\u00A0"), Map.entry("copy", "\u00A9"),
      Map.entry("reg", "\u00AE"), Map.entry("trade", "\u2122"), Map.entry("hellip", "\u2026"),
      Map.entry("mdash", "\u2014"), Map.entry("ndash", "\u2013"), Map.entry("lsquo", "\u2018"),
      Map.entry("rsquo", "\u2019"), Map.entry("ldquo", "\u201C"), Map.entry("rdquo", "\u201D"),
      Map.entry("laquo", "\u00AB"), Map.entry("raquo", "\u00BB"), Map.entry("deg", "\u00B0"),
      Map.entry("eacute", "\u00E9"), Map.entry("times", "\u00D7"), Map.entry("euro", "\u20AC"));

  private HtmlEntities() {}

  static String unescape(String s) {
    int amp = s.indexOf('&');
    if (amp < 0) {
      return s;
    }
    StringBuilder sb = new StringBuilder(s.length());
    sb.append(s, 0, amp);
    int i = amp;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c != '&') {
        sb.append(c);
        i++;
        continue;
      }
      int consumed = tryEntity(s, i, sb);
      if (consumed == 0) {
        sb.append('&');
        i++;
      } else {
        i += consumed;
      }
    }
    return sb.toString();
  }

  /** Appends the entity at {@code s[i]} ('&') and returns its length, or 0 if there is none. */
  private static int tryEntity(String s, int i, StringBuilder sb) {
    int j = i + 1;
    if (j < s.length() && s.charAt(j) == '#') {
      j++;
      boolean hex = j < s.length() && (s.charAt(j) == 'x' || s.charAt(j) == 'X');
      if (hex) {
        j++;
      }
      int start = j;
      while (j < s.length() && j - start < 8 && Character.digit(s.charAt(j), hex ? 16 : 10) >= 0) {
        j++;
      }
      if (j == start) {
        return 0;
      }
      int cp = Integer.parseInt(s.substring(start, j), hex ? 16 : 10);
      if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        cp = 0xFFFD;
      }
      sb.appendCodePoint(cp);
      if (j < s.length() && s.charAt(j) == ';') {
        j++;
      }
      return j - i;
    }
    int start = j;
    while (j < s.length() && j - start < 10 && Character.isLetterOrDigit(s.charAt(j))) {
      j++;
    }
    String name = s.substring(start, j);
    String value = NAMED.get(name);
    if (value != null && j < s.length() && s.charAt(j) == ';') {
      sb.append(value);
      return j + 1 - i;
    }
    for (String legacy : new String[] {"amp", "lt", "gt", "quot"}) {
      if (name.startsWith(legacy)) {
        sb.append(NAMED.get(legacy));
        return 1 + legacy.length();
      }
    }
    return 0;
  }
}
