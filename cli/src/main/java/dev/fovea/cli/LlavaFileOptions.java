package dev.fovea.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The files that travel with a LLaVA {@code --model} in some layouts (a picocli mixin of {@code ask},
 * {@code vicrop} and {@code eval vqa}): llama.cpp's projector GGUF, an original checkpoint's CLIP tower.
 */
final class LlavaFileOptions {
  @Option(names = "--mmproj", paramLabel = "FILE", description = "LLaVA GGUF: the vision tower + projector file paired with --model")
  Path mmproj;

  @Option(names = "--vision-tower", paramLabel = "DIR", description = "original haotian-liu LLaVA folder: the CLIP tower its mm_vision_tower names (default: that name as a path, or in the Hugging Face hub cache)")
  Path visionTower;

  /** The model with these files. */
  LlavaBundle open(Path model) throws IOException {
    return LlavaBundle.open(model, mmproj, visionTower);
  }
}
