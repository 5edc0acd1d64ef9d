package dev.fovea.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/** Children named "0", "1", ... (torch.nn.ModuleList), so a list registered as "layers" gives paths "layers.3". */
public final class ModuleList<M extends Module> extends Module implements Iterable<M> {
  private final List<M> items = new ArrayList<>();

  public M add(M m) {
    items.add(register(Integer.toString(items.size()), m));
    return m;
  }

  public M get(int i) {
    return items.get(i);
  }

  public int size() {
    return items.size();
  }

  public List<M> asList() {
    return Collections.unmodifiableList(items);
  }

  @Override
  public Iterator<M> iterator() {
    return asList().iterator();
  }
}
