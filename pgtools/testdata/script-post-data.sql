--
-- PostgreSQL database dump
--

\restrict SXcsPrSdKexqySVFmt2EvieobHNhBU9g0skLQmTChPk0AgqhSA0zNZfBNaIdcsW

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
-- TOC entry 3152 (class 2606 OID 16393)
-- Dependencies: 218
-- Name: a a_pkey; Type: CONSTRAINT; Schema: s1; Owner: -
-- Data Pos: 0
--

ALTER TABLE ONLY s1.a
    ADD CONSTRAINT a_pkey PRIMARY KEY (id);


--
-- TOC entry 3155 (class 2606 OID 16401)
-- Dependencies: 219
-- Name: b b_pkey; Type: CONSTRAINT; Schema: s1; Owner: -
-- Data Pos: 0
--

ALTER TABLE ONLY s1.b
    ADD CONSTRAINT b_pkey PRIMARY KEY (id);


--
-- TOC entry 3159 (class 2606 OID 16432)
-- Dependencies: 225
-- Name: c c_pkey; Type: CONSTRAINT; Schema: s1; Owner: -
-- Data Pos: 0
--

ALTER TABLE ONLY s1.c
    ADD CONSTRAINT c_pkey PRIMARY KEY (id);


--
-- TOC entry 3153 (class 1259 OID 16407)
-- Dependencies: 219
-- Name: b_a_id_idx; Type: INDEX; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE INDEX b_a_id_idx ON s1.b USING btree (a_id);


--
-- TOC entry 3156 (class 1259 OID 16416)
-- Dependencies: 220
-- Name: p_id_idx; Type: INDEX; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE INDEX p_id_idx ON ONLY s1.p USING btree (id);


--
-- TOC entry 3157 (class 1259 OID 16417)
-- Dependencies: 3156 221 221
-- Name: p1_id_idx; Type: INDEX; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE INDEX p1_id_idx ON s1.p1 USING btree (id);


--
-- TOC entry 3160 (class 0 OID 0)
-- Dependencies: 3157 3156 221 220
-- Name: p1_id_idx; Type: INDEX ATTACH; Schema: s1; Owner: -
-- Data Pos: 0
--

ALTER INDEX s1.p_id_idx ATTACH PARTITION s1.p1_id_idx;


--
-- TOC entry 3162 (class 2620 OID 16409)
-- Dependencies: 226 218
-- Name: a tr; Type: TRIGGER; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE TRIGGER tr BEFORE INSERT ON s1.a FOR EACH ROW EXECUTE FUNCTION s1.f();


--
-- TOC entry 3161 (class 2606 OID 16402)
-- Dependencies: 3152 219 218
-- Name: b b_a_id_fkey; Type: FK CONSTRAINT; Schema: s1; Owner: -
-- Data Pos: 0
--

ALTER TABLE ONLY s1.b
    ADD CONSTRAINT b_a_id_fkey FOREIGN KEY (a_id) REFERENCES s1.a(id);


--
-- TOC entry 3309 (class 0 OID 16386)
-- Dependencies: 218
-- Name: a; Type: ROW SECURITY; Schema: s1; Owner: -
-- Data Pos: 0
--

ALTER TABLE s1.a ENABLE ROW LEVEL SECURITY;

--
-- TOC entry 3310 (class 3256 OID 16418)
-- Dependencies: 218 218
-- Name: a pol; Type: POLICY; Schema: s1; Owner: -
-- Data Pos: 0
--

CREATE POLICY pol ON s1.a USING ((id > 0));


--
-- TOC entry 3314 (class 0 OID 16419)
-- Dependencies: 222 3321
-- Name: mv; Type: MATERIALIZED VIEW DATA; Schema: s1; Owner: -
-- Data Pos: 0
--

REFRESH MATERIALIZED VIEW s1.mv;


-- Completed on 2026-12-03 15:45:20 UTC

--
-- PostgreSQL database dump complete
--

\unrestrict SXcsPrSdKexqySVFmt2EvieobHNhBU9g0skLQmTChPk0AgqhSA0zNZfBNaIdcsW

