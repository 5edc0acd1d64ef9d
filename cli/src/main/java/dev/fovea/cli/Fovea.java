package dev.fovea.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ./fovea} command-line program. Subcommands print their result to standard output
 * (with {@code --json} for scripts); progress and logs go to standard error.
 */
@Command(
    name = "fovea",
    mixinStandardHelpOptions = true,
    version = "fovea 0.1.0",
    description = "Pure-Java inference and interpretability engine for vision-language models.",
    subcommands = {
      AskCommand.class,
      DemoCommand.class,
      ConvertCommand.class,
      InspectCommand.class,
      TokenizeCommand.class,
      ClassifyCommand.class,
      VicropCommand.class,
      EvalCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Fovea implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line (also used by tests). */
  static CommandLine commandLine() {
    return new CommandLine(new Fovea())
        .setExecutionExceptionHandler((ex, cmd, parsed) -> {
          // Library errors are typed and say what is wrong (reader errors start with the file):
          // print the message on one line, not a stack trace.
          String msg = ex.getMessage() == null ? String.valueOf(ex.getCause()) : ex.getMessage();
          cmd.getErr().println("fovea: " + ex.getClass().getSimpleName() + ": " + msg.strip().replaceAll("\\s*\\R\\s*", " "));
          if (Boolean.getBoolean("fovea.debug")) {
            ex.printStackTrace(cmd.getErr());
          }
          return 1;
        });
  }
}
