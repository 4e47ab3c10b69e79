-- The source database the fixtures are captured from (see capture.go):
-- small, but with one of each kind of object a migration meets.
CREATE ROLE ea_owner;          -- exists on the source only: restores hit "role does not exist"

CREATE SCHEMA app;

CREATE TYPE app.status AS ENUM ('new', 'paid', 'shipped');
CREATE SEQUENCE app.invoice_no START 1000;

CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.created_at := now();
  RETURN NEW;
END
$$;

CREATE TABLE app.customers (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL,
  email      text UNIQUE,
  profile    jsonb,
  avatar     bytea,
  created_at timestamptz DEFAULT now()
);
COMMENT ON TABLE app.customers IS 'people who buy things';
CREATE TRIGGER customers_touch BEFORE INSERT ON app.customers
  FOR EACH ROW EXECUTE FUNCTION app.touch();

CREATE TABLE app.orders (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES app.customers (id),
  status      app.status NOT NULL DEFAULT 'new',
  invoice     bigint DEFAULT nextval('app.invoice_no'),
  total       numeric(12, 2) CHECK (total >= 0)
);
CREATE INDEX orders_customer_idx ON app.orders (customer_id);
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_all ON app.orders USING (true);

CREATE TABLE app."order items" (
  order_id bigint REFERENCES app.orders (id) ON DELETE CASCADE,
  sku      text,
  qty      int NOT NULL,
  PRIMARY KEY (order_id, sku)
);

CREATE TABLE app.audit (id serial PRIMARY KEY, note text);
ALTER TABLE app.audit OWNER TO ea_owner;
GRANT SELECT ON app.customers TO ea_owner;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO ea_owner;

CREATE VIEW app.customer_totals AS
  SELECT c.id, c.name, sum(o.total) AS total
  FROM app.customers c LEFT JOIN app.orders o ON o.customer_id = c.id
  GROUP BY c.id, c.name;

CREATE TABLE public.events (id bigint, at timestamptz NOT NULL, payload jsonb) PARTITION BY RANGE (at);
CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX events_at_idx ON public.events (at);

CREATE TABLE public."we""ird.name" (id int PRIMARY KEY, "col ""x""" text);
CREATE TABLE public.empty_table (id int);

CREATE FUNCTION public.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
END
$$;
CREATE EVENT TRIGGER on_ddl ON ddl_command_end EXECUTE FUNCTION public.on_ddl();

CREATE PUBLICATION customers_pub FOR TABLE app.customers;

INSERT INTO app.customers (name, email, profile, avatar) VALUES
  ('Ada', 'ada@example.com', '{"langs": ["en", "fr"], "vip": true}', '\x89504e470d0a1a0a'),
  ('Bob', 'bob@example.com', '{"note": "tab\there"}', NULL),
  ('Zoë', NULL, NULL, '\x00ff');
INSERT INTO app.orders (customer_id, status, total) VALUES (1, 'paid', 12.50), (1, 'new', 0), (2, 'shipped', 99.99);
INSERT INTO app."order items" VALUES (1, 'A-1', 2), (1, 'B 2', 1), (3, 'C-3', 5);
INSERT INTO app.audit (note) VALUES ('created');
INSERT INTO public.events VALUES
  (1, '2024-05-01', '{"k": 1}'), (2, '2025-02-03', '{"k": 2}'), (3, '2025-12-31', NULL);
INSERT INTO public."we""ird.name" VALUES (1, 'x'), (2, 'y');

CREATE MATERIALIZED VIEW app.status_counts AS
  SELECT status, count(*) AS n FROM app.orders GROUP BY status;

SELECT lo_from_bytea(0, '\x68656c6c6f'::bytea);
