/** What `GET /readyz` reports about one dependency of this replica. */
export interface ReadinessCheck {
  ok: boolean;
  detail: string;
}
