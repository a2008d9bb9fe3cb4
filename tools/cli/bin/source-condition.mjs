// Module-resolution hook for source mode (see iommu.mjs): resolve with the `@iommu/source`
// export condition, so workspace packages load from src/ instead of an absent dist/.
export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, "@iommu/source"] });
}
