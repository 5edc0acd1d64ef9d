package dev.fovea.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
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
      TrainCommand.class,
      SpiralsCommand.class,
      ConvertCommand.class,
      InspectCommand.class,
      TokenizeCommand.class,
      ClassifyCommand.class,
      VicropCommand.class,
      EvalCommand.class,
      ScenesCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Fovea implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** No subcommand: a usage error (exit 2) that lists the subcommands. */
  @Override
  public Integer call() {
    return missingSubcommand(spec);
  }

  /** Prints {@code spec}'s usage (its subcommands) to standard error and returns the usage-error exit code. */
  static int missingSubcommand(CommandLine.Model.CommandSpec spec) {
    CommandLine cl = spec.commandLine();
    cl.getErr().println(spec.qualifiedName() + ": missing subcommand");
    cl.usage(cl.getErr());
    cl.getErr().flush();
    return spec.exitCodeOnInvalidInput();
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line (also used by tests). */
  static CommandLine commandLine() {
    return new CommandLine(new Fovea())
        .setParameterExceptionHandler(Fovea::usageError)
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

  /**
   * A usage error (unknown or missing option, bad value, a check in a command's call): the one
   * message, picocli's suggestions for a mistyped name, and where the usage is, not the whole usage.
   */
  private static int usageError(CommandLine.ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    String name = cmd.getCommandSpec().qualifiedName();
    err.println(name + ": " + ex.getMessage());
    CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
    err.println("Try '" + name + " --help' for more information.");
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }
}
