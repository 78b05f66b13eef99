import { IdSchema } from '@linewatch/protocol';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { requireToken } from '../auth.js';
import { HttpError, parseInput } from '../http-error.js';
import { SubscriptionInputSchema, SubscriptionPatchSchema, WebhookSecretSchema, publicSubscription } from './alert-db.js';
import type { Alerting } from './alerting.js';

/** `?state=firing,acknowledged` */
const StatesSchema = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').filter((s) => s !== '') : v),
  z.array(z.enum(['pending', 'firing', 'acknowledged', 'resolved'])).min(1),
);

const AlertsQuerySchema = z.object({
  state: StatesSchema.optional(),
  line: IdSchema.optional(),
  station: IdSchema.optional(),
  class: z.enum(['process', 'data_quality']).optional(),
  from: z.coerce.number().int().nonnegative().optional(),
  to: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

const AckSchema = z.object({ by: z.string().trim().min(1).max(100), comment: z.string().max(1000).default('') }).strict();

const PathSchema = z.object({ id: z.string().min(1).max(300) });

/** Creating over REST needs the client's own secret: no response ever carries one. */
const CreateSubscriptionSchema = SubscriptionInputSchema.required({ secret: true });
const RotateSchema = z.strictObject({ secret: WebhookSecretSchema });

/**
 * Alerts and webhooks over REST. Reading is open like the rest of the API; acknowledging and managing
 * subscriptions and deliveries need the API token. No response ever carries a signing secret or a custom header's
 * value: secrets are chosen by the client and sent once.
 */
export function createAlertRoutes({ alerting, apiToken }: { alerting: Alerting; apiToken: string }): Router {
  const router = Router();
  const authorised = requireToken(apiToken);
  const id = (req: Request): string => parseInput(PathSchema, req.params, 'path').id;
  const subscription = (id: string) => {
    const s = alerting.subscriptionDb.get(id);
    if (!s) throw new HttpError(404, 'not_found', `no webhook subscription ${id}`);
    return s;
  };

  router.get('/api/alerts', (req, res) => {
    const { state, ...q } = parseInput(AlertsQuerySchema, req.query, 'query');
    res.json(alerting.alertDb.alerts({ ...q, ...(state ? { states: state } : {}) }));
  });

  router.get('/api/alerts/:id', (req, res) => {
    const alert = alerting.alertDb.alert(id(req));
    if (!alert) throw new HttpError(404, 'not_found', `no alert ${id(req)}`);
    res.json({ alert, history: alerting.alertDb.history(alert.id) });
  });

  router.post('/api/alerts/:id/ack', authorised, (req, res) => {
    const body = parseInput(AckSchema, req.body, 'body');
    if (!alerting.alertDb.alert(id(req))) throw new HttpError(404, 'not_found', `no alert ${id(req)}`);
    try {
      res.json(alerting.acknowledge(id(req), body));
    } catch (err) {
      throw new HttpError(409, 'conflict', `alert ${id(req)} cannot be acknowledged: ${(err as Error).message}`, { cause: err });
    }
  });

  router.get('/api/webhooks', (_req, res) => {
    res.json(alerting.subscriptionDb.list().map(publicSubscription));
  });

  router.post('/api/webhooks', authorised, (req, res) => {
    const body = parseInput(CreateSubscriptionSchema, req.body, 'body');
    res.status(201).json(publicSubscription(alerting.subscriptionDb.create(body, Date.now())));
  });

  router.patch('/api/webhooks/:id', authorised, (req, res) => {
    subscription(id(req));
    const body = parseInput(SubscriptionPatchSchema, req.body, 'body');
    res.json(publicSubscription(alerting.subscriptionDb.update(id(req), body)));
  });

  router.delete('/api/webhooks/:id', authorised, (req, res) => {
    subscription(id(req));
    alerting.deleteSubscription(id(req));
    res.status(204).end();
  });

  router.post('/api/webhooks/:id/rotate', authorised, (req, res) => {
    subscription(id(req));
    const { secret } = parseInput(RotateSchema, req.body, 'body');
    res.json(publicSubscription(alerting.subscriptionDb.rotateSecret(id(req), secret)));
  });

  router.post('/api/webhooks/:id/rotate/finish', authorised, (req, res) => {
    subscription(id(req));
    res.json(publicSubscription(alerting.subscriptionDb.dropOldSecrets(id(req))));
  });

  router.post('/api/webhooks/:id/test', authorised, (req, res) => {
    const delivery = alerting.testDelivery(subscription(id(req)));
    res.status(202).json(delivery);
  });

  router.get('/api/webhooks/:id/deliveries', (req, res) => {
    subscription(id(req));
    res.json(alerting.deliveries.deliveries({ subscriptionId: id(req), limit: 200 }));
  });

  router.get('/api/deliveries', (req, res) => {
    const q = parseInput(z.object({ status: z.enum(['pending', 'delivered', 'dead']).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }), req.query, 'query');
    res.json(alerting.deliveries.deliveries(q));
  });

  router.get('/api/deliveries/:id/attempts', (req, res) => {
    res.json(alerting.deliveries.attempts(id(req)));
  });

  router.post('/api/deliveries/:id/redeliver', authorised, (req, res) => {
    try {
      const delivery = alerting.deliveries.redeliver(id(req), Date.now());
      alerting.kick();
      res.status(202).json(delivery);
    } catch (err) {
      throw new HttpError(404, 'not_found', `no delivery ${id(req)}`, { cause: err });
    }
  });

  return router;
}
