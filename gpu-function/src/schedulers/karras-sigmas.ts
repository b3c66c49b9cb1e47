/**
 * Karras et al. 2022 ("Elucidating the Design Space of Diffusion-Based Generative Models", eq. 5): noise levels
 * evenly spaced in sigma^(1/rho) between sigmaMax and sigmaMin, rho = 7. Float64 like diffusers' numpy code,
 * with numpy's linspace ramp (k * (1 / (n - 1)), the last entry exactly 1).
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, count: number, rho = 7): Float64Array {
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  const delta = count > 1 ? 1 / (count - 1) : 0;
  const sigmas = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const ramp = count > 1 && k === count - 1 ? 1 : k * delta;
    sigmas[k] = (maxInvRho + ramp * (minInvRho - maxInvRho)) ** rho;
  }
  return sigmas;
}
