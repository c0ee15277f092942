/** How a domain renders images: palettes, backgrounds, geometry jitter, noise and blur. */
export interface DomainStyle {
  /** Short description shown in docs. */
  description: string;
  /** Shape radius as a fraction of half the image side: `[min, max]`. */
  scale: readonly [number, number];
  /** Maximum absolute rotation in degrees (kept small so stripe orientation stays a class cue). */
  rotation: number;
  /** Maximum offset of the shape centre, as a fraction of half the image side. */
  jitter: number;
  /** Foreground saturation range. */
  saturation: readonly [number, number];
  /** Foreground value (brightness) range of the first texture colour. */
  value: readonly [number, number];
  /** Background brightness range. */
  background: readonly [number, number];
  /** Background saturation range. */
  backgroundSaturation: readonly [number, number];
  /** Probabilities of the background kinds `[flat, gradient, clutter]` (summing to 1). */
  backgroundKinds: readonly [number, number, number];
  /** Per-pixel noise standard deviation range, in 0–255 units. */
  noise: readonly [number, number];
  /** Probability of a 3×3 blur. */
  blur: number;
  /** Texture frequency range (cycles per shape radius ×2). */
  frequency: readonly [number, number];
}

/** Domain names of the synthetic classification suites. */
export type SyntheticDomain = "pretrain" | "source" | "target";

/**
 * The three rendering styles: a broad "pretrain" domain, a clean "source" domain (saturated shapes on dark flat
 * backgrounds) and a shifted "target" domain (muted, darker shapes on bright cluttered backgrounds, smaller,
 * noisier, often blurred).
 */
export const SYNTHETIC_DOMAINS: Readonly<Record<SyntheticDomain, DomainStyle>> = {
  pretrain: {
    description: "broad: any palette, any background kind, varied scale, noise and blur",
    scale: [0.45, 0.85],
    rotation: 20,
    jitter: 0.18,
    saturation: [0.2, 1],
    value: [0.35, 1],
    background: [0.05, 0.95],
    backgroundSaturation: [0, 0.6],
    backgroundKinds: [0.34, 0.33, 0.33],
    noise: [0, 14],
    blur: 0.3,
    frequency: [2.5, 4],
  },
  source: {
    description: "clean: saturated bright shapes on dark flat or gradient backgrounds, low noise, no blur",
    scale: [0.6, 0.82],
    rotation: 12,
    jitter: 0.1,
    saturation: [0.7, 1],
    value: [0.85, 1],
    background: [0.04, 0.22],
    backgroundSaturation: [0, 0.3],
    backgroundKinds: [0.7, 0.3, 0],
    noise: [1, 4],
    blur: 0,
    frequency: [2.8, 3.6],
  },
  target: {
    description: "shifted: muted dark shapes on bright cluttered backgrounds, smaller, noisy, often blurred",
    scale: [0.45, 0.68],
    rotation: 20,
    jitter: 0.2,
    saturation: [0.2, 0.5],
    value: [0.3, 0.5],
    background: [0.72, 0.95],
    backgroundSaturation: [0.05, 0.35],
    backgroundKinds: [0.1, 0.3, 0.6],
    noise: [8, 16],
    blur: 0.5,
    frequency: [2.6, 3.8],
  },
};
