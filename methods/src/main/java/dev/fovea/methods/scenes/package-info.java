/**
 * Synthetic scenes for training and evaluating small vision-language models (issue 22): seeded pictures
 * of coloured shapes and small glyphs on grey clutter, with short-answer questions and the box of each
 * answer, written as datasets that {@code eval vqa} and {@code eval pope} read.
 *
 * <p>A {@link dev.fovea.methods.scenes.Scene} describes a picture; {@link
 * dev.fovea.methods.scenes.SceneRenderer} draws it with fovea's own rasterization and {@link
 * dev.fovea.methods.scenes.GlyphFont} (no platform fonts), and {@link dev.fovea.methods.scenes.Png}
 * encodes it with fovea's own deflate, so a seed gives byte-identical files everywhere. {@link
 * dev.fovea.methods.scenes.Questions} asks about any scene; {@link
 * dev.fovea.methods.scenes.SceneGenerator} plans random scenes with five questions each, spread over
 * ViCrop's small, medium and large answer sizes, with balanced POPE-style yes/no pairs; {@link
 * dev.fovea.methods.scenes.SceneDataset} writes training and held-out splits atomically.
 *
 * <p>The package lives in {@code methods} beside {@code methods.eval}, whose formats it writes and whose
 * {@link dev.fovea.methods.eval.SizeSplit} it sizes answers by; it is named after what it makes rather
 * than {@code demo}, because the demonstration (issue 22's model, its training and {@code ./fovea demo})
 * is a user of these scenes, not the scenes themselves.
 */
package dev.fovea.methods.scenes;
