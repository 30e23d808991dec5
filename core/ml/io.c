/*
 * Saving and loading model folders: cnai-model.json (jansson) and
 * model.safetensors (an 8-byte little-endian header length, a JSON header
 * with dtype, shape and data_offsets per tensor, padded with spaces to 8
 * bytes, then the raw tensors), plus model.onnx from onnx.c.
 */
#include "core/ml/io.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

static const char *head_name(enum cnai_ml_head h)
{
	return h == CNAI_HEAD_SOFTMAX ? "softmax"
	       : h == CNAI_HEAD_SIGMOID ? "sigmoid"
					: "identity";
}

json_t *cnai_ml_model_json(const struct cnai_ml_model *m)
{
	json_t *j = json_object(), *feats = json_array(), *layers = json_array();
	json_t *hidden = json_array(), *target = json_object();
	size_t i, k;

	json_object_set_new(j, "format", json_string("cnai-model"));
	json_object_set_new(j, "format_version", json_integer(1));
	json_object_set_new(j, "model", json_string(cnai_ml_kind_name(m->kind)));
	json_object_set_new(j, "task",
			    json_string(cnai_ml_model_is_classifier(m)
						? "classification"
						: "regression"));
	json_object_set_new(j, "head", json_string(head_name(m->head)));
	json_object_set_new(j, "activation",
			    json_string(m->nlayers > 1 ? cnai_act_name(m->act)
						       : "none"));
	json_object_set_new(j, "dropout", json_real(m->dropout));
	for (i = 0; i + 1 < m->nlayers; i++)
		json_array_append_new(hidden, json_integer(m->layers[i].out));
	json_object_set_new(j, "hidden", hidden);
	for (i = 0; i < m->nlayers; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dense_%zu", i);
		json_array_append_new(layers,
				      json_pack("{s:s, s:i, s:i}", "name", name,
						"in", m->layers[i].in, "out",
						m->layers[i].out));
	}
	json_object_set_new(j, "layers", layers);
	json_object_set_new(j, "input_width", json_integer((json_int_t)m->prep.width));
	for (i = 0; i < m->prep.n; i++) {
		const struct cnai_ml_feature *f = &m->prep.f[i];

		if (!f->categorical) {
			json_array_append_new(
				feats, json_pack("{s:s, s:s, s:f, s:f, s:f}",
						 "name", f->name, "type",
						 "number", "mean",
						 (double)f->mean, "std",
						 (double)f->std, "fill",
						 (double)f->fill));
		} else {
			json_t *cats = json_array();

			for (k = 0; k < f->ncats; k++)
				json_array_append_new(cats,
						      json_string(f->cats[k]));
			json_array_append_new(
				feats, json_pack("{s:s, s:s, s:o, s:s}", "name",
						 f->name, "type", "string",
						 "categories", cats, "fill",
						 f->cats[f->mode]));
		}
	}
	json_object_set_new(j, "features", feats);
	json_object_set_new(target, "name", json_string(m->target));
	if (cnai_ml_model_is_classifier(m)) {
		json_t *cl = json_array();

		for (k = 0; k < m->nclasses; k++)
			json_array_append_new(cl, json_string(m->classes[k]));
		json_object_set_new(target, "classes", cl);
	} else {
		json_object_set_new(target, "mean", json_real(m->y_mean));
		json_object_set_new(target, "std", json_real(m->y_std));
	}
	json_object_set_new(j, "target", target);
	return j;
}

int cnai_ml_safetensors_write(struct cnai_buf *buf,
			      const struct cnai_ml_model *m)
{
	json_t *h = json_object();
	char *hs = NULL;
	size_t off = 0, i, hl;
	uint64_t len;
	int err = 0;

	json_object_set_new(h, "__metadata__",
			    json_pack("{s:s, s:s}", "format", "cnai",
				      "layout", "weight [in, out]: y = x w + b"));
	for (i = 0; i < m->nlayers; i++) {
		const struct cnai_ml_dense *d = &m->layers[i];
		size_t nw = (size_t)d->in * d->out * 4, nb = (size_t)d->out * 4;
		char name[40];

		snprintf(name, sizeof(name), "dense_%zu.weight", i);
		json_object_set_new(h, name,
				    json_pack("{s:s, s:[i,i], s:[I,I]}",
					      "dtype", "F32", "shape", d->in,
					      d->out, "data_offsets",
					      (json_int_t)off,
					      (json_int_t)(off + nw)));
		off += nw;
		snprintf(name, sizeof(name), "dense_%zu.bias", i);
		json_object_set_new(h, name,
				    json_pack("{s:s, s:[i], s:[I,I]}", "dtype",
					      "F32", "shape", d->out,
					      "data_offsets", (json_int_t)off,
					      (json_int_t)(off + nb)));
		off += nb;
	}
	if (!(hs = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	hl = strlen(hs);
	len = (hl + 7) / 8 * 8;
	/* little-endian length (x86-64 and arm64 are) */
	cnai_buf_add(buf, &len, 8);
	cnai_buf_add(buf, hs, hl);
	for (; hl < len; hl++)
		cnai_buf_addch(buf, ' ');
	for (i = 0; i < m->nlayers; i++) {
		const struct cnai_ml_dense *d = &m->layers[i];

		cnai_buf_add(buf, d->w, (size_t)d->in * d->out * 4);
		cnai_buf_add(buf, d->b, (size_t)d->out * 4);
	}
	err = cnai_buf_oom(buf);
cleanup:
	free(hs);
	json_decref(h);
	return err;
}

static int write_file(const char *dir, const char *name,
		      const struct cnai_buf *b)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return cnai_fs_write_atomic(path, b->buf, b->len, 0644);
}

int cnai_ml_model_save(const struct cnai_ml_model *m, const char *dir,
		       json_t *extra)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	json_t *j = NULL;
	char *s = NULL;
	int err;

	if ((err = cnai_fs_mkdir_p(dir, 0755)) < 0)
		return err;
	if ((err = cnai_ml_onnx_write(&b, m)) < 0 ||
	    (err = write_file(dir, CNAI_MODEL_ONNX, &b)) < 0)
		goto cleanup;
	cnai_buf_reset(&b);
	if ((err = cnai_ml_safetensors_write(&b, m)) < 0 ||
	    (err = write_file(dir, CNAI_MODEL_SAFETENSORS, &b)) < 0)
		goto cleanup;
	cnai_buf_reset(&b);
	j = cnai_ml_model_json(m);
	if (extra)
		json_object_update(j, extra);
	if (!(s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	cnai_buf_adds(&b, s);
	cnai_buf_addch(&b, '\n');
	if ((err = cnai_buf_oom(&b)) < 0)
		goto cleanup;
	err = write_file(dir, CNAI_MODEL_JSON, &b);
cleanup:
	free(s);
	json_decref(j);
	cnai_buf_release(&b);
	return err;
}

/* ---- loading ---- */

static int bad(const char *path, const char *what)
{
	return cnai_error_set(CNAI_EINVALID, "%s: %s", path, what);
}

/* The string member `key` of o, or `dflt`. */
static const char *jstr(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static char *dupstr(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int load_features(struct cnai_ml_model *m, json_t *feats,
			 const char *path)
{
	size_t i, k;

	if (!json_is_array(feats) || !json_array_size(feats))
		return bad(path, "'features' is not a list of features");
	m->prep.n = json_array_size(feats);
	if (!(m->prep.f = calloc(m->prep.n, sizeof(*m->prep.f))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < m->prep.n; i++) {
		json_t *o = json_array_get(feats, i), *cats;
		struct cnai_ml_feature *f = &m->prep.f[i];
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *name = json_string_value(json_object_get(o, "name"));

		if (!name || !type)
			return bad(path, "a feature without name or type");
		f->name = dupstr(name);
		if (!strcmp(type, "number")) {
			if (i > m->prep.nnumeric)
				return bad(path, "numeric features must come "
						 "first");
			f->mean = (float)json_number_value(
				json_object_get(o, "mean"));
			f->std = (float)json_number_value(
				json_object_get(o, "std"));
			f->fill = (float)json_number_value(
				json_object_get(o, "fill"));
			if (!(f->std > 0))
				return bad(path, "a feature's std is not > 0");
			m->prep.nnumeric++;
			m->prep.width++;
			continue;
		}
		if (strcmp(type, "string"))
			return bad(path, "a feature's type is not number or "
					 "string");
		f->categorical = 1;
		cats = json_object_get(o, "categories");
		if (!json_is_array(cats) || !json_array_size(cats))
			return bad(path, "a string feature without categories");
		f->ncats = json_array_size(cats);
		if (!(f->cats = calloc(f->ncats, sizeof(char *))))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		for (k = 0; k < f->ncats; k++) {
			const char *c = json_string_value(json_array_get(cats, k));

			if (!c || (k && strcmp(f->cats[k - 1], c) >= 0))
				return bad(path, "categories must be sorted "
						 "strings");
			f->cats[k] = dupstr(c);
			if (!strcmp(c, jstr(o, "fill", "")))
				f->mode = k;
		}
		m->prep.width += f->ncats;
	}
	return 0;
}

static int load_weights(struct cnai_ml_model *m, const char *dir)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	char path[PATH_MAX];
	json_t *h = NULL;
	uint64_t hl;
	size_t i, l;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, CNAI_MODEL_SAFETENSORS);
	if ((err = cnai_fs_read_file(&b, path, 0)) < 0)
		return err;
	if (b.len < 8)
		goto malformed;
	memcpy(&hl, b.buf, 8);
	if (hl > b.len - 8 || !(h = json_loadb(b.buf + 8, (size_t)hl, 0, NULL)))
		goto malformed;
	for (l = 0; l < m->nlayers; l++) {
		struct cnai_ml_dense *d = &m->layers[l];

		for (i = 0; i < 2; i++) {
			char name[40];
			json_t *t, *off;
			size_t want = i ? (size_t)d->out * 4
					: (size_t)d->in * d->out * 4;
			json_int_t a, e;

			snprintf(name, sizeof(name), "dense_%zu.%s", l,
				 i ? "bias" : "weight");
			t = json_object_get(h, name);
			off = json_object_get(t, "data_offsets");
			a = json_integer_value(json_array_get(off, 0));
			e = json_integer_value(json_array_get(off, 1));
			if (!t || strcmp(jstr(t, "dtype", ""), "F32") ||
			    a < 0 || e < a || (size_t)(e - a) != want ||
			    (uint64_t)e > b.len - 8 - hl) {
				err = cnai_error_set(CNAI_EINVALID,
						     "%s: tensor '%s' missing "
						     "or not F32 of %zu bytes",
						     path, name, want);
				goto cleanup;
			}
			memcpy(i ? d->b : d->w, b.buf + 8 + hl + a, want);
		}
	}
	goto cleanup;
malformed:
	err = bad(path, "not a safetensors file");
cleanup:
	json_decref(h);
	cnai_buf_release(&b);
	return err;
}

int cnai_ml_model_load(struct cnai_ml_model **out, json_t **json_out,
		       const char *dir)
{
	struct cnai_ml_model *m = calloc(1, sizeof(*m));
	char path[PATH_MAX];
	json_t *j = NULL, *layers, *target, *classes;
	json_error_t je;
	const char *s;
	size_t i;
	int err = 0, k;

	*out = NULL;
	if (json_out)
		*json_out = NULL;
	if (!m)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	snprintf(path, sizeof(path), "%s/%s", dir, CNAI_MODEL_JSON);
	if (!cnai_fs_exists(path)) {
		err = cnai_error_set(CNAI_ENOTFOUND,
				     "'%s' is not a model folder (no %s)", dir,
				     CNAI_MODEL_JSON);
		goto cleanup;
	}
	if (!(j = json_load_file(path, 0, &je))) {
		err = cnai_error_set(CNAI_EINVALID, "%s:%d: %s", path, je.line,
				     je.text);
		goto cleanup;
	}
	if ((k = cnai_ml_kind_parse(jstr(j, "model", ""))) < 0) {
		err = bad(path, "unknown 'model'");
		goto cleanup;
	}
	m->kind = (enum cnai_ml_kind)k;
	s = jstr(j, "head", "");
	m->head = !strcmp(s, "softmax")   ? CNAI_HEAD_SOFTMAX
		  : !strcmp(s, "sigmoid") ? CNAI_HEAD_SIGMOID
					  : CNAI_HEAD_IDENTITY;
	s = jstr(j, "activation", "none");
	k = cnai_act_parse(s);
	m->act = k > 0 ? (enum cnai_act)k : CNAI_ACT_NONE;
	if ((err = load_features(m, json_object_get(j, "features"), path)) < 0)
		goto cleanup;
	target = json_object_get(j, "target");
	m->target = dupstr(json_string_value(json_object_get(target, "name")));
	classes = json_object_get(target, "classes");
	if (m->head != CNAI_HEAD_IDENTITY) {
		if (!json_is_array(classes) || json_array_size(classes) < 2) {
			err = bad(path, "a classifier needs 2 or more classes");
			goto cleanup;
		}
		m->nclasses = json_array_size(classes);
		m->classes = calloc(m->nclasses, sizeof(char *));
		for (i = 0; m->classes && i < m->nclasses; i++)
			m->classes[i] = strdup(json_is_string(json_array_get(classes, i))
					? json_string_value(json_array_get(classes, i))
					: "");
	} else {
		m->y_mean = (float)json_number_value(json_object_get(target, "mean"));
		m->y_std = (float)json_number_value(json_object_get(target, "std"));
	}
	layers = json_object_get(j, "layers");
	m->nlayers = json_array_size(layers);
	if (!m->nlayers || !(m->layers = calloc(m->nlayers, sizeof(*m->layers)))) {
		err = bad(path, "no layers");
		goto cleanup;
	}
	for (i = 0; i < m->nlayers; i++) {
		struct cnai_ml_dense *d = &m->layers[i];
		json_t *o = json_array_get(layers, i);

		d->in = (int)json_integer_value(json_object_get(o, "in"));
		d->out = (int)json_integer_value(json_object_get(o, "out"));
		if (d->in <= 0 || d->out <= 0 ||
		    (i == 0 && (size_t)d->in != m->prep.width) ||
		    (i > 0 && d->in != m->layers[i - 1].out) ||
		    (i + 1 == m->nlayers && d->out != cnai_ml_model_nout(m))) {
			err = bad(path, "layer shapes do not chain");
			goto cleanup;
		}
		d->w = malloc((size_t)d->in * d->out * sizeof(float));
		d->b = malloc((size_t)d->out * sizeof(float));
		if (!d->w || !d->b) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
	}
	err = load_weights(m, dir);
cleanup:
	if (err < 0) {
		cnai_ml_model_free(m);
		json_decref(j);
		return err;
	}
	*out = m;
	if (json_out)
		*json_out = j;
	else
		json_decref(j);
	return 0;
}

/* What differs between the trained model a and the loaded b, or NULL. */
static const char *model_diff(const struct cnai_ml_model *a,
			      const struct cnai_ml_model *b)
{
	size_t i, k;

	/* the activation only matters between layers */
	if (a->kind != b->kind || a->head != b->head ||
	    (a->nlayers > 1 && a->act != b->act))
		return "another model kind, head or activation";
	if (a->prep.n != b->prep.n || a->prep.width != b->prep.width)
		return "another number of features";
	for (i = 0; i < a->prep.n; i++) {
		const struct cnai_ml_feature *x = &a->prep.f[i],
					     *y = &b->prep.f[i];

		if (!x->name || !y->name || strcmp(x->name, y->name) ||
		    x->categorical != y->categorical || x->ncats != y->ncats)
			return "another feature";
		for (k = 0; k < x->ncats; k++)
			if (strcmp(x->cats[k], y->cats[k]))
				return "other categories";
	}
	if (!a->target || !b->target || strcmp(a->target, b->target))
		return "another target name";
	if (a->nclasses != b->nclasses && cnai_ml_model_is_classifier(a))
		return "other classes";
	for (k = 0; cnai_ml_model_is_classifier(a) && k < a->nclasses; k++)
		if (strcmp(a->classes[k], b->classes[k]))
			return "other classes";
	if (a->nlayers != b->nlayers)
		return "other layers";
	for (i = 0; i < a->nlayers; i++) {
		const struct cnai_ml_dense *x = &a->layers[i],
					   *y = &b->layers[i];

		if (x->in != y->in || x->out != y->out ||
		    memcmp(x->w, y->w, (size_t)x->in * x->out * sizeof(float)) ||
		    memcmp(x->b, y->b, (size_t)x->out * sizeof(float)))
			return "other weights";
	}
	return NULL;
}

int cnai_ml_model_check_saved(const struct cnai_ml_model *m,
			      const char *dir)
{
	struct cnai_ml_model *back = NULL;
	const char *what;
	int err;

	if ((err = cnai_ml_model_load(&back, NULL, dir)) < 0) {
		const struct cnai_error *e = cnai_error_last();
		char why[sizeof(e->message)];

		/* the message is about to be overwritten: copy it first */
		snprintf(why, sizeof(why), "%s",
			 e ? e->message : cnai_strerror(err));
		/* our own file: a runtime failure, not the user's input */
		return cnai_error_set(CNAI_ERROR,
				      "the model written to '%s' does not load "
				      "back (%s)", dir, why);
	}
	what = model_diff(m, back);
	cnai_ml_model_free(back);
	if (what)
		return cnai_error_set(CNAI_ERROR,
				      "the model written to '%s' loads back "
				      "with %s", dir, what);
	return 0;
}
