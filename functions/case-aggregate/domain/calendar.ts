// The working-day calendar is shared by case aggregation and evaluation ingest: it lives in the kernel.
export * from '../../../shared/calendar';
