package dev.fovea.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The options every model evaluation shares (a picocli mixin of {@code eval vqa}, {@code eval pope},
 * {@code eval mme}): how many questions, the resumable results file, JSON output; and the usage checks
 * of the data paths, made before any work.
 */
final class EvalResultsOptions {
  @Option(names = "--limit", paramLabel = "N", description = "only the first N questions (N >= 1)")
  Long limit;

  @Option(names = "--out", paramLabel = "FILE", description = "results JSONL (created, or resumed when it exists); required")
  Path out;

  @Option(names = "--json", description = "print the summary as JSON instead of a table")
  boolean json;

  /**
   * {@code --out} given (checked here, not by picocli, so that {@code eval chair --captions} can do
   * without it) and {@code --limit} at least 1 when given.
   */
  void checkLimit(CommandSpec spec) {
    if (out == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--out=FILE'");
    }
    if (limit != null) {
      OptionRange.check(spec, "--limit", limit, 1, Long.MAX_VALUE);
    }
  }

  /** A usage error unless {@code path} is an existing regular file. */
  static void requireFile(CommandSpec spec, String option, Path path) {
    if (!Files.isRegularFile(path)) {
      throw new CommandLine.ParameterException(spec.commandLine(), option + " " + path + ": "
          + (Files.isDirectory(path) ? "a folder, not a file" : Files.exists(path) ? "not a regular file" : "no such file"));
    }
  }

  /** A usage error unless {@code path} is an existing folder. */
  static void requireFolder(CommandSpec spec, String option, Path path) {
    if (!Files.isDirectory(path)) {
      throw new CommandLine.ParameterException(spec.commandLine(), option + " " + path + ": " + (Files.exists(path) ? "not a folder" : "no such folder"));
    }
  }
}
