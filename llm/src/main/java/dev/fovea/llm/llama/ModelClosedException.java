package dev.fovea.llm.llama;

/**
 * The model was closed (its weights unmapped or freed) before or while a forward pass read them.
 * Another thread's {@code close()} during a decode ends that decode with this exception: the FFM
 * runtime's liveness checks stop every read of the freed memory (they surface as an {@link
 * IllegalStateException}, "Already closed", which becomes the cause here), so nothing reads
 * unmapped memory.
 */
public final class ModelClosedException extends LlamaException {
  public ModelClosedException(String message) {
    super(message);
  }

  public ModelClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
