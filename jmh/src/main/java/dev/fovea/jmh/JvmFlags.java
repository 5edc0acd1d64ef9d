package dev.fovea.jmh;

import dev.fovea.tensor.cpu.JvmOptions;

/**
 * The JVM flags every benchmark fork that runs fovea's kernels starts with, one constant each so
 * that {@code @Fork(jvmArgsAppend = ...)} can name them: the same flags as pom.xml's {@code
 * fovea.jvm.flags} (the tests) and the {@code ./fovea} launcher, which explain them. The two JIT
 * flags are tensor's {@link JvmOptions} constants, the ones its start-up check looks for (and
 * JvmOptionsTest holds pom.xml's flags to); the module flags stay literals here.
 */
final class JvmFlags {
  static final String ADD_MODULES = "--add-modules";
  static final String VECTOR = "jdk.incubator.vector";
  static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
  static final String QUIET = "-XX:CompileCommand=quiet";
  /** CpuMath's vector functions inlined into every kernel (pom.xml). */
  static final String INLINE_CPUMATH = JvmOptions.INLINE_CPUMATH_FLAG;
  /** C2 keeps speculating on vector types in the large kernels (pom.xml, Gemv's class comment). */
  static final String TRAP_LIMIT = JvmOptions.TRAP_LIMIT_FLAG;

  private JvmFlags() {}
}
