--
-- PostgreSQL database dump
--

\restrict P0FyL9O0UDNZO7WFNDDs4RNl1X5YyHDYFkzBQ9XybmIqar4tCBckm8OJ3aCLX2E

-- Dumped from database version 17.10
-- Dumped by pg_dump version 17.11

-- Started on 2026-12-03 15:41:46 UTC

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET transaction_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- TOC entry 6 (class 2615 OID 16385)
-- Name: s1; Type: SCHEMA; Schema: -; Owner: -
-- Data Pos: 0
--

CREATE SCHEMA s1;


--
-- TOC entry 226 (class 1255 OID 16408)
-- Dependencies: 6
-- Name: f(); Type: FUNCTION; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE FUNCTION s1.f() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ begin
  return new;
end $$;


SET default_table_access_method = heap;

--
-- TOC entry 218 (class 1259 OID 16386)
-- Dependencies: 6
-- Name: a; Type: TABLE; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE TABLE s1.a (
    id integer NOT NULL,
    v text DEFAULT 'x'::text,
    t tsvector
);


--
-- TOC entry 3326 (class 0 OID 0)
-- Dependencies: 218
-- Name: TABLE a; Type: COMMENT; Schema: s1; Owner: -
-- Data Pos: 0
--

COMMENT ON TABLE s1.a IS 'tbl a';


--
-- TOC entry 219 (class 1259 OID 16394)
-- Dependencies: 6
-- Name: b; Type: TABLE; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE TABLE s1.b (
    id integer NOT NULL,
    a_id integer,
    n numeric,
    CONSTRAINT b_n_check CHECK ((n > (0)::numeric))
);


--
-- TOC entry 225 (class 1259 OID 16428)
-- Dependencies: 6
-- Name: c; Type: TABLE; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE TABLE s1.c (
    id integer NOT NULL,
    x integer
);


--
-- TOC entry 224 (class 1259 OID 16427)
-- Dependencies: 225 6
-- Name: c_id_seq; Type: SEQUENCE; Schema: s1; Owner: -
-- Data Pos: 0
--

ALTER TABLE s1.c ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME s1.c_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- TOC entry 222 (class 1259 OID 16419)
-- Dependencies: 218 6
-- Name: mv; Type: MATERIALIZED VIEW; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE MATERIALIZED VIEW s1.mv AS
 SELECT count(*) AS count
   FROM s1.a
  WITH NO DATA;


--
-- TOC entry 220 (class 1259 OID 16410)
-- Dependencies: 6
-- Name: p; Type: TABLE; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE TABLE s1.p (
    id integer,
    k integer
)
PARTITION BY RANGE (k);


--
-- TOC entry 221 (class 1259 OID 16413)
-- Dependencies: 220 6
-- Name: p1; Type: TABLE; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE TABLE s1.p1 (
    id integer,
    k integer
);


--
-- TOC entry 223 (class 1259 OID 16426)
-- Dependencies: 6
-- Name: sq; Type: SEQUENCE; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE SEQUENCE s1.sq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- TOC entry 3148 (class 0 OID 0)
-- Dependencies: 221 220
-- Name: p1; Type: TABLE ATTACH; Schema: s1; Owner: -
-- Data Pos: 0
--

ALTER TABLE ONLY s1.p ATTACH PARTITION s1.p1 FOR VALUES FROM (0) TO (10);


-- Completed on 2026-12-03 15:45:20 UTC

--
-- PostgreSQL database dump complete
--

\unrestrict P0FyL9O0UDNZO7WFNDDs4RNl1X5YyHDYFkzBQ9XybmIqar4tCBckm8OJ3aCLX2E

