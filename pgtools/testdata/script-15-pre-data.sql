--
-- PostgreSQL database dump
--

\restrict 4FdIyWoFor3HahhkxteesYdXwSYtTAgcTn3HsCUOkNd1v1qnBAR5FrCY9uZMNso

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

-- Started on 2026-11-21 09:36:11 UTC

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- TOC entry 6 (class 2615 OID 16385)
-- Name: app; Type: SCHEMA; Schema: -; Owner: -
-- Data Pos: 0
--

CREATE SCHEMA app;


--
-- TOC entry 854 (class 1247 OID 16387)
-- Dependencies: 6
-- Name: status; Type: TYPE; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE TYPE app.status AS ENUM (
    'new',
    'paid',
    'shipped'
);


--
-- TOC entry 230 (class 1255 OID 16394)
-- Dependencies: 6
-- Name: touch(); Type: FUNCTION; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE FUNCTION app.touch() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  NEW.created_at := now();
  RETURN NEW;
END
$$;


--
-- TOC entry 231 (class 1255 OID 16476)
-- Name: on_ddl(); Type: FUNCTION; Schema: public; Owner: -
-- Data Pos: 0
--

CREATE FUNCTION public.on_ddl() RETURNS event_trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
END
$$;


SET default_table_access_method = heap;

--
-- TOC entry 222 (class 1259 OID 16437)
-- Dependencies: 6
-- Name: audit; Type: TABLE; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE TABLE app.audit (
    id integer NOT NULL,
    note text
);


--
-- TOC entry 221 (class 1259 OID 16436)
-- Dependencies: 6 222
-- Name: audit_id_seq; Type: SEQUENCE; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE SEQUENCE app.audit_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- TOC entry 3447 (class 0 OID 0)
-- Dependencies: 221
-- Name: audit_id_seq; Type: SEQUENCE OWNED BY; Schema: app; Owner: -
-- Data Pos: 0
--

ALTER SEQUENCE app.audit_id_seq OWNED BY app.audit.id;


--
-- TOC entry 217 (class 1259 OID 16396)
-- Dependencies: 6
-- Name: customers; Type: TABLE; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE TABLE app.customers (
    id bigint NOT NULL,
    name text NOT NULL,
    email text,
    profile jsonb,
    avatar bytea,
    created_at timestamp with time zone DEFAULT now()
);


--
-- TOC entry 3448 (class 0 OID 0)
-- Dependencies: 217
-- Name: TABLE customers; Type: COMMENT; Schema: app; Owner: -
-- Data Pos: 0
--

COMMENT ON TABLE app.customers IS 'people who buy things';


--
-- TOC entry 215 (class 1259 OID 16393)
-- Dependencies: 6
-- Name: invoice_no; Type: SEQUENCE; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE SEQUENCE app.invoice_no
    START WITH 1000
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- TOC entry 219 (class 1259 OID 16409)
-- Dependencies: 854 215 6 854
-- Name: orders; Type: TABLE; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE TABLE app.orders (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    status app.status DEFAULT 'new'::app.status NOT NULL,
    invoice bigint DEFAULT nextval('app.invoice_no'::regclass),
    total numeric(12,2),
    CONSTRAINT orders_total_check CHECK ((total >= (0)::numeric))
);


--
-- TOC entry 223 (class 1259 OID 16446)
-- Dependencies: 217 217 219 219 6
-- Name: customer_totals; Type: VIEW; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE VIEW app.customer_totals AS
 SELECT c.id,
    c.name,
    sum(o.total) AS total
   FROM (app.customers c
     LEFT JOIN app.orders o ON ((o.customer_id = c.id)))
  GROUP BY c.id, c.name;


--
-- TOC entry 216 (class 1259 OID 16395)
-- Dependencies: 217 6
-- Name: customers_id_seq; Type: SEQUENCE; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE SEQUENCE app.customers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- TOC entry 3451 (class 0 OID 0)
-- Dependencies: 216
-- Name: customers_id_seq; Type: SEQUENCE OWNED BY; Schema: app; Owner: -
-- Data Pos: 0
--

ALTER SEQUENCE app.customers_id_seq OWNED BY app.customers.id;


--
-- TOC entry 220 (class 1259 OID 16424)
-- Dependencies: 6
-- Name: order items; Type: TABLE; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE TABLE app."order items" (
    order_id bigint NOT NULL,
    sku text NOT NULL,
    qty integer NOT NULL
);


--
-- TOC entry 218 (class 1259 OID 16408)
-- Dependencies: 6 219
-- Name: orders_id_seq; Type: SEQUENCE; Schema: app; Owner: -
-- Data Pos: 0
--

ALTER TABLE app.orders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.orders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- TOC entry 229 (class 1259 OID 16480)
-- Dependencies: 219 854 6
-- Name: status_counts; Type: MATERIALIZED VIEW; Schema: app; Owner: -
-- Data Pos: 0
--

CREATE MATERIALIZED VIEW app.status_counts AS
 SELECT orders.status,
    count(*) AS n
   FROM app.orders
  GROUP BY orders.status
  WITH NO DATA;


--
-- TOC entry 228 (class 1259 OID 16473)
-- Name: empty_table; Type: TABLE; Schema: public; Owner: -
-- Data Pos: 0
--

CREATE TABLE public.empty_table (
    id integer
);


--
-- TOC entry 224 (class 1259 OID 16450)
-- Name: events; Type: TABLE; Schema: public; Owner: -
-- Data Pos: 0
--

CREATE TABLE public.events (
    id bigint,
    at timestamp with time zone NOT NULL,
    payload jsonb
)
PARTITION BY RANGE (at);


--
-- TOC entry 225 (class 1259 OID 16453)
-- Dependencies: 224
-- Name: events_2024; Type: TABLE; Schema: public; Owner: -
-- Data Pos: 0
--

CREATE TABLE public.events_2024 (
    id bigint,
    at timestamp with time zone NOT NULL,
    payload jsonb
);


--
-- TOC entry 226 (class 1259 OID 16458)
-- Dependencies: 224
-- Name: events_2025; Type: TABLE; Schema: public; Owner: -
-- Data Pos: 0
--

CREATE TABLE public.events_2025 (
    id bigint,
    at timestamp with time zone NOT NULL,
    payload jsonb
);


--
-- TOC entry 227 (class 1259 OID 16466)
-- Name: we"ird.name; Type: TABLE; Schema: public; Owner: -
-- Data Pos: 0
--

CREATE TABLE public."we""ird.name" (
    id integer NOT NULL,
    "col ""x""" text
);


--
-- TOC entry 3248 (class 0 OID 0)
-- Dependencies: 225 224
-- Name: events_2024; Type: TABLE ATTACH; Schema: public; Owner: -
-- Data Pos: 0
--

ALTER TABLE ONLY public.events ATTACH PARTITION public.events_2024 FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');


--
-- TOC entry 3249 (class 0 OID 0)
-- Dependencies: 226 224
-- Name: events_2025; Type: TABLE ATTACH; Schema: public; Owner: -
-- Data Pos: 0
--

ALTER TABLE ONLY public.events ATTACH PARTITION public.events_2025 FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');


--
-- TOC entry 3254 (class 2604 OID 16440)
-- Dependencies: 221 222 222
-- Name: audit id; Type: DEFAULT; Schema: app; Owner: -
-- Data Pos: 0
--

ALTER TABLE ONLY app.audit ALTER COLUMN id SET DEFAULT nextval('app.audit_id_seq'::regclass);


--
-- TOC entry 3250 (class 2604 OID 16399)
-- Dependencies: 217 216 217
-- Name: customers id; Type: DEFAULT; Schema: app; Owner: -
-- Data Pos: 0
--

ALTER TABLE ONLY app.customers ALTER COLUMN id SET DEFAULT nextval('app.customers_id_seq'::regclass);


--
-- TOC entry 3438 (class 2613 OID 16484)
-- Name: 16484; Type: BLOB; Schema: -; Owner: -
-- Data Pos: 0
--

SELECT pg_catalog.lo_create('16484');


-- Completed on 2026-12-03 15:45:25 UTC

--
-- PostgreSQL database dump complete
--

\unrestrict 4FdIyWoFor3HahhkxteesYdXwSYtTAgcTn3HsCUOkNd1v1qnBAR5FrCY9uZMNso

